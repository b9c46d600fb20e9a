// copy.js: copy buttons for the values the account page shows only once,
// a new API key and the recovery codes. The page carries each button
// hidden (button[data-copy] names the id of the element to copy); this
// script shows the buttons when the browser lets a page write to the
// clipboard, and says "Copied" in the live region beside the button
// (span[data-copy-status]). Without the script the buttons stay hidden
// and the values stay selectable with one click (user-select: all).
(function () {
  "use strict";
  if (!navigator.clipboard || !navigator.clipboard.writeText) {
    return;
  }

  // textOf is what a copy of el holds: the items of a list one a line,
  // else the element's text.
  function textOf(el) {
    var items = el.querySelectorAll("li");
    if (items.length === 0) {
      return el.textContent.trim();
    }
    return Array.prototype.map.call(items, function (li) {
      return li.textContent.trim();
    }).join("\n") + "\n";
  }

  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
    var id = button.getAttribute("data-copy");
    var target = document.getElementById(id);
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (!target) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(textOf(target)).then(function () {
        if (status) {
          status.textContent = "Copied.";
        }
      }, function () {
        if (status) {
          status.textContent = "Could not copy: select the text and copy it.";
        }
      });
    });
  });
})();
