import { waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { Layout } from "../../web/src/components/Layout";
import { i18n } from "../../web/src/i18n";
import { renderWithApi } from "./render";

describe("the window's title", () => {
  it("follows the reader's language", async () => {
    renderWithApi(<Layout />, { "site.info": { blockchainFilingNo: "", icpNo: "" } });
    await waitFor(() => expect(document.title).toBe("数藏 · 数字藏品"));
    await i18n.changeLanguage("en");
    await waitFor(() => expect(document.title).toBe("Shuzang · Digital collectibles"));
  });
});
