import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

import { i18n } from "../../web/src/i18n";
import { useLocaleStore } from "../../web/src/stores/locale";

afterEach(async () => {
  cleanup();
  useLocaleStore.setState({ locale: "zh-CN" });
  await i18n.changeLanguage("zh-CN");
});
