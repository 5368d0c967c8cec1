// "Show another picture" beside a captcha: asks django-simple-captcha for a new key and picture.
// Without JavaScript the button stays hidden, and sending the form shows a new picture.
// "Listen to the characters" plays the spoken captcha in the page; without JavaScript the link
// downloads the same recording.
(function () {
  function reveal() {
    document.querySelectorAll("[data-captcha-refresh]").forEach(function (button) {
      button.hidden = false;
    });
  }
  document.addEventListener("DOMContentLoaded", reveal);
  document.addEventListener("htmx:afterSwap", reveal);
  var playing = null;
  document.addEventListener("click", function (event) {
    var listen = event.target.closest("[data-captcha-audio]");
    if (listen) {
      event.preventDefault();
      if (playing) playing.pause();
      playing = new Audio(listen.getAttribute("href"));
      playing.play().catch(function () {
        window.location.assign(listen.getAttribute("href"));
      });
      return;
    }
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
        var audio = row.querySelector("[data-captcha-audio]");
        if (audio && data.audio_url) audio.setAttribute("href", data.audio_url);
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
