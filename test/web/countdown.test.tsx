import { act, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { Countdown } from "../../web/src/components/Countdown";

describe("Countdown", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-11-24T10:00:00+08:00"));
  });
  afterEach(() => vi.useRealTimers());

  it("shows hours, minutes and seconds with two digits each, and days when more than a day is left", () => {
    const { rerender } = render(<Countdown target="2026-11-24T11:02:03+08:00" />);
    expect(screen.getByRole("timer").textContent).toBe("01:02:03");
    rerender(<Countdown target="2026-11-26T10:00:05+08:00" />);
    expect(screen.getByRole("timer").textContent).toBe("2 天 00:00:05");
  });

  it("ticks every second and keeps the same number of characters, so nothing around it moves", () => {
    render(<Countdown target="2026-11-24T10:00:10+08:00" />);
    const lengths = new Set<number>();
    for (let i = 0; i < 5; i++) {
      lengths.add(screen.getByRole("timer").textContent!.length);
      act(() => vi.advanceTimersByTime(1000));
    }
    expect(screen.getByRole("timer").textContent).toBe("00:00:05");
    expect(lengths).toEqual(new Set([8]));
    expect(screen.getByRole("timer").querySelector(".countdown-digits")).not.toBeNull();
  });

  it("calls onDone exactly once when the target is reached and stays at zero", () => {
    const onDone = vi.fn();
    render(<Countdown target="2026-11-24T10:00:02+08:00" onDone={onDone} />);
    act(() => vi.advanceTimersByTime(1000));
    expect(onDone).not.toHaveBeenCalled();
    act(() => vi.advanceTimersByTime(5000));
    expect(onDone).toHaveBeenCalledTimes(1);
    expect(screen.getByRole("timer").textContent).toBe("00:00:00");
  });

  it("is not announced every second to screen readers", () => {
    render(<Countdown target="2026-11-24T10:00:30+08:00" label="距开售" />);
    expect(screen.getByRole("timer").getAttribute("aria-live")).toBe("off");
    expect(screen.getByText("距开售")).toBeTruthy();
  });
});
