// /api/docs/: Swagger UI's example pickers have a visible caption but no label (WCAG 2.1
// 4.1.2, axe ``select-name``); each is named by its caption as Swagger UI draws it.
(() => {
  const nameThem = () => {
    for (const select of document.querySelectorAll("select.examples-select-element:not([aria-label])")) {
      const caption = select.closest(".examples-select")?.querySelector(".examples-select__section-label");
      select.setAttribute("aria-label", (caption?.textContent || "Examples").trim().replace(/:$/, ""));
    }
  };
  new MutationObserver(nameThem).observe(document.documentElement, { childList: true, subtree: true });
})();
