import "./app/styles.css";
import "./i18n";

import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { App } from "./app/App";
import { pageHeadGiven } from "./app/clients";
import { router } from "./app/router";

// When the server named this page's code in the HTML (server/http/static.ts) it is already loaded or loading:
// the first render waits for the route to resolve and paints the page itself, not the loading state first
// (on a slow phone that extra render and paint sit in front of the page's largest paint).
if (pageHeadGiven && !router.state.initialized) {
  await new Promise<void>((resolve) => {
    const unsubscribe = router.subscribe((state) => {
      if (!state.initialized) return;
      unsubscribe();
      resolve();
    });
  });
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
