import { useEffect, useRef } from "react";
import { useTranslation } from "react-i18next";

import { remainingUntil } from "../lib/format";
import { useNow } from "../lib/use-now";

interface CountdownProps {
  target: Date | string;
  /** Called once when the target is reached. */
  onDone?: () => void;
  label?: string;
}

const pad = (n: number) => String(n).padStart(2, "0");

/**
 * Time left until `target`. Digits are tabular and every segment keeps its
 * width, so the text never shifts while it ticks; screen readers hear it once
 * a minute rather than every second.
 */
export function Countdown({ target, onDone, label }: CountdownProps) {
  const { t } = useTranslation();
  const now = useNow(1000);
  const left = remainingUntil(new Date(target), now);
  const fired = useRef(false);

  useEffect(() => {
    if (left.done && !fired.current) {
      fired.current = true;
      onDone?.();
    }
  }, [left.done, onDone]);

  const text =
    left.days > 0
      ? t("countdown.withDays", { d: left.days, h: pad(left.hours), m: pad(left.minutes), s: pad(left.seconds) })
      : t("countdown.clock", { h: pad(left.hours), m: pad(left.minutes), s: pad(left.seconds) });

  return (
    <span className="countdown" role="timer" aria-live="off">
      {label !== undefined && <span className="countdown-label">{label}</span>}
      <span className="countdown-digits" aria-label={t("countdown.aria", { text })}>
        {text}
      </span>
    </span>
  );
}
