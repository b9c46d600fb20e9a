// Gatehouse user menu: who is signed in, and a sign-out button. Injected
// into the application's HTML pages by `gatehouse proxy --menu`.
(function () {
  "use strict";
  if (document.getElementById("gatehouse-menu")) return;
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
      var who = document.createElement("span");
      who.textContent = me.user + (me.roles && me.roles.length ? " (" + me.roles.join(", ") + ")" : "");
      var form = document.createElement("form");
      form.method = "post";
      form.action = "/_gatehouse/logout";
      var button = document.createElement("button");
      button.type = "submit";
      button.textContent = "Sign out";
      form.appendChild(button);
      box.appendChild(who);
      box.appendChild(form);
      document.body.appendChild(box);
    })
    .catch(function () {});
})();
