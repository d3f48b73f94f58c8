import { fireEvent, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { errorCatalog } from "../../server/errors";
import { toLocalInput } from "../../web/src/lib/admin-upload";
import { DraftEditor, PublishWindow } from "../../web/src/features/studio/StudioApp";
import { i18n } from "../../web/src/i18n";
import { Refusal, renderWithApi } from "./render";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A saved draft as `studio.get` answers it, starting `startsInMs` from now. */
function draftRow(startsInMs: number) {
  const start = Date.now() + startsInMs;
  return {
    id: 7,
    title: "晨钟暮鼓",
    description: "d",
    creator: "c",
    story: "s",
    mediaSha256: "a".repeat(64),
    editionSize: 100,
    priceFen: 990,
    saleStartsAt: new Date(start),
    saleEndsAt: new Date(start + 7 * DAY),
    perPersonLimit: 1,
    lockDays: 180,
    regiftDays: 730,
    status: "draft",
    rejectionReason: null,
    contractAddress: null,
  } as unknown as Parameters<typeof DraftEditor>[0]["row"];
}

/** The message shown next to a field (its `.field` box), or null. */
function messageBeside(label: string): string | null {
  const box = screen.getByLabelText(label).closest(".field")!;
  return box.querySelector(".field-error")?.textContent ?? null;
}

describe("the studio's sale start", () => {
  it("refuses a start in the past next to the field, in plain words, and sends nothing", async () => {
    const user = userEvent.setup();
    const { calls } = renderWithApi(<DraftEditor row={draftRow(-HOUR)} />);
    await user.click(screen.getByRole("button", { name: "保存草稿" }));
    expect(messageBeside("开售时间")).toBe("开售时间不能早于现在，请选择一个将来的开售时间");
    expect(calls.filter((c) => c.procedure === "studio.updateDraft")).toHaveLength(0);

    // A future start clears the message and saves.
    fireEvent.change(screen.getByLabelText("开售时间"), {
      target: { value: toLocalInput(new Date(Date.now() + DAY)) },
    });
    await user.click(screen.getByRole("button", { name: "保存草稿" }));
    await waitFor(() => expect(calls.some((c) => c.procedure === "studio.updateDraft")).toBe(true));
    expect(messageBeside("开售时间")).toBeNull();
  });

  it("says it in English too", async () => {
    await i18n.changeLanguage("en");
    const user = userEvent.setup();
    renderWithApi(<DraftEditor row={draftRow(-HOUR)} />);
    await user.click(screen.getByRole("button", { name: "Save draft" }));
    expect(messageBeside("Sale starts")).toBe(errorCatalog["collection.startInPast"].en);
  });

  it("shows the server's refusal of a past start beside the start field, not as a loose alert", async () => {
    const user = userEvent.setup();
    renderWithApi(<DraftEditor row={draftRow(DAY)} />, {
      "studio.updateDraft": new Refusal("collection.startInPast"),
    });
    await user.click(screen.getByRole("button", { name: "保存草稿" }));
    await waitFor(() => expect(messageBeside("开售时间")).toBe(errorCatalog["collection.startInPast"].zh));
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("asks for a new start when the approved one passed during review, and publishes with it", async () => {
    const onPublish = vi.fn();
    const row = { saleStartsAt: new Date(Date.now() - HOUR), saleEndsAt: new Date(Date.now() + 6 * DAY) };
    renderWithApi(<PublishWindow row={row} refusal={null} pending={false} onPublish={onPublish} />);
    expect(screen.getByRole("alert").textContent).toMatch(/开售时间已过.*不能早于现在.*重新选择开售/);

    fireEvent.change(screen.getByLabelText("开售时间"), {
      target: { value: toLocalInput(new Date(Date.now() - 60_000)) },
    });
    fireEvent.click(screen.getByRole("button", { name: "按新时间上链发布" }));
    expect(messageBeside("开售时间")).toBe("开售时间不能早于现在，请选择一个将来的开售时间");
    expect(onPublish).not.toHaveBeenCalled();

    const start = toLocalInput(new Date(Date.now() + DAY));
    fireEvent.change(screen.getByLabelText("开售时间"), { target: { value: start } });
    fireEvent.click(screen.getByRole("button", { name: "按新时间上链发布" }));
    expect(onPublish).toHaveBeenCalledTimes(1);
    const window = onPublish.mock.calls[0]![0] as { saleStartsAt: Date; saleEndsAt: Date };
    expect(toLocalInput(window.saleStartsAt)).toBe(start);
    expect(window.saleEndsAt.getTime()).toBeGreaterThan(window.saleStartsAt.getTime());
  });

  it("shows nothing to choose while the approved start is still ahead", () => {
    const row = { saleStartsAt: new Date(Date.now() + DAY), saleEndsAt: new Date(Date.now() + 2 * DAY) };
    renderWithApi(<PublishWindow row={row} refusal={null} pending={false} onPublish={() => undefined} />);
    expect(screen.queryByTestId("publish-window")).toBeNull();
  });
});
