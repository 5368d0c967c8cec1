// Where keyboard and screen-reader focus goes (WCAG 2.1 2.4.3 focus order and 3.3.1 error
// identification, as GB/T 37668-2019 asks): a page that answers a failed save puts focus on its
// error summary; a page that confirms an action puts it on the confirmation; content that htmx
// loads in place into a [data-focus-new-content] container puts it on that content's heading or
// first field. Scrolling tables become keyboard-scrollable regions.
(function () {
  "use strict";

  function focusOn(element) {
    if (!element) return false;
    if (!element.matches("a[href], button, input, select, textarea, [tabindex]")) {
      element.setAttribute("tabindex", "-1");
    }
    element.focus();
    return document.activeElement === element;
  }

  function focusPageStart() {
    focusOn(document.querySelector(".error-summary")) ||
      focusOn(document.querySelector("[data-autofocus]")) ||
      focusOn(document.querySelector("main [role=status][data-message]"));
  }

  function focusNewContent(container) {
    var target =
      container.querySelector(".error-summary") ||
      container.querySelector("h1, h2, h3") ||
      container.querySelector(
        "input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])"
      );
    focusOn(target);
  }

  // A table wider than its scroll box (e.g. at 390 px) can be scrolled with the arrow keys
  // only if its box takes focus; it is then named after the table's caption or heading.
  function labelScrollRegions() {
    document.querySelectorAll(".table-responsive").forEach(function (box) {
      if (box.hasAttribute("data-scroll-region-static")) return;
      var scrolls = box.scrollWidth > box.clientWidth;
      if (scrolls && !box.hasAttribute("tabindex")) {
        var caption = box.querySelector("caption");
        var heading = caption ? null : precedingHeading(box);
        var name = (caption || heading || {}).textContent;
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("data-scroll-region", "");
        if (name) box.setAttribute("aria-label", name.trim().replace(/\s+/g, " "));
      } else if (!scrolls && box.hasAttribute("data-scroll-region")) {
        ["tabindex", "role", "aria-label", "data-scroll-region"].forEach(function (attribute) {
          box.removeAttribute(attribute);
        });
      }
    });
  }

  function precedingHeading(element) {
    var headings = document.querySelectorAll("main h1, main h2, main h3");
    var found = null;
    headings.forEach(function (heading) {
      if (heading.compareDocumentPosition(element) & Node.DOCUMENT_POSITION_FOLLOWING) {
        found = heading;
      }
    });
    return found;
  }

  document.addEventListener("DOMContentLoaded", function () {
    labelScrollRegions();
    focusPageStart();
  });
  window.addEventListener("resize", labelScrollRegions);
  document.addEventListener("htmx:afterSettle", function (event) {
    labelScrollRegions();
    var container = event.detail && event.detail.target;
    if (container && container.matches("[data-focus-new-content]")) {
      focusNewContent(container);
    }
  });
})();
