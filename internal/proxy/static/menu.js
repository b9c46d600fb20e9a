// Gatehouse user menu: who is signed in, and a sign-out button. Injected
// into the application's HTML pages by `gatehouse proxy --menu`. It can be
// collapsed to a single button (remembered per browser), and every control
// is at least 24 x 24 px (WCAG 2.2, 2.5.8).
(function () {
  "use strict";
  if (document.getElementById("gatehouse-menu")) return;
  var KEY = "gatehouse-menu-collapsed";
  fetch("/_gatehouse/whoami", { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (me) {
      if (!me) return;
      var css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = "/_gatehouse/static/menu.css";
      document.head.appendChild(css);
      var box = document.createElement("div");
      box.id = "gatehouse-menu";
      var toggle = document.createElement("button");
      toggle.type = "button";
      toggle.className = "gatehouse-menu-toggle";
      toggle.setAttribute("aria-controls", "gatehouse-menu-body");
      toggle.textContent = (me.user || "?").charAt(0).toUpperCase();
      toggle.title = "Signed in as " + me.user;
      var body = document.createElement("div");
      body.id = "gatehouse-menu-body";
      var who = document.createElement("span");
      who.textContent = me.user + (me.roles && me.roles.length ? " (" + me.roles.join(", ") + ")" : "");
      var form = document.createElement("form");
      form.method = "post";
      form.action = "/_gatehouse/logout";
      var button = document.createElement("button");
      button.type = "submit";
      button.textContent = "Sign out";
      form.appendChild(button);
      body.appendChild(who);
      body.appendChild(form);
      box.appendChild(toggle);
      box.appendChild(body);
      var collapsed = false;
      try { collapsed = window.localStorage.getItem(KEY) === "1"; } catch (e) {}
      function show() {
        body.hidden = collapsed;
        box.className = collapsed ? "collapsed" : "";
        toggle.setAttribute("aria-expanded", collapsed ? "false" : "true");
        toggle.setAttribute("aria-label", collapsed ? "Show the Gatehouse menu" : "Hide the Gatehouse menu");
      }
      toggle.addEventListener("click", function () {
        collapsed = !collapsed;
        try { window.localStorage.setItem(KEY, collapsed ? "1" : "0"); } catch (e) {}
        show();
      });
      show();
      document.body.appendChild(box);
    })
    .catch(function () {});
})();
