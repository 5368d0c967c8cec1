// "Show another picture" beside a captcha: asks django-simple-captcha for a new key and picture.
// Without JavaScript the button stays hidden, and sending the form shows a new picture.
(function () {
  function reveal() {
    document.querySelectorAll("[data-captcha-refresh]").forEach(function (button) {
      button.hidden = false;
    });
  }
  document.addEventListener("DOMContentLoaded", reveal);
  document.addEventListener("htmx:afterSwap", reveal);
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-captcha-refresh]");
    if (!button) return;
    event.preventDefault();
    var row = button.closest(".captcha-row");
    button.disabled = true;
    fetch(button.getAttribute("data-captcha-refresh"), {
      headers: { "X-Requested-With": "XMLHttpRequest" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (data) {
        row.querySelector("img.captcha").src = data.image_url;
        row.querySelector("input[type=hidden]").value = data.key;
        var typed = row.querySelector("input[type=text]");
        if (typed) {
          typed.value = "";
          typed.focus();
        }
      })
      .catch(function () {})
      .then(function () {
        button.disabled = false;
      });
  });
})();
