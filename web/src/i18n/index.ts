import i18n from "i18next";
import { initReactI18next } from "react-i18next";

import { useLocaleStore } from "../stores/locale";
import { en } from "./en";
import { zhCN } from "./zh-CN";

/** One i18next instance; admin pages add their own bundle when their chunk loads. */
void i18n.use(initReactI18next).init({
  resources: { "zh-CN": { translation: zhCN }, en: { translation: en } },
  lng: useLocaleStore.getState().locale,
  fallbackLng: "zh-CN",
  interpolation: { escapeValue: false },
  returnNull: false,
});

useLocaleStore.subscribe((state) => {
  void i18n.changeLanguage(state.locale);
  document.documentElement.lang = state.locale;
});
document.documentElement.lang = useLocaleStore.getState().locale;

export { i18n };
