import { create } from "zustand";
import { persist } from "zustand/middleware";

export type Locale = "zh-CN" | "en";

interface LocaleState {
  locale: Locale;
  setLocale: (locale: Locale) => void;
}

/** The reader's language: Chinese unless they chose English (remembered on this device). */
export const useLocaleStore = create<LocaleState>()(
  persist(
    (set) => ({
      locale: "zh-CN",
      setLocale: (locale) => set({ locale }),
    }),
    { name: "shuzang.locale" },
  ),
);
