// passkey.js: the one script of the Gatehouse pages. It runs the passkey
// ceremonies (WebAuthn, navigator.credentials) of the forms marked
// data-kind="register" (account page), "login" (sign-in page, also as
// conditional UI in the username field's autofill) and "mfa" (second
// step): it posts the form to its data-begin URL, passes the options to
// the browser, and posts the browser's answer to data-finish as the field
// "credential" (JSON, binary values base64url). The answers are JSON:
// {options}, {redirect} or {error}. Without this script, or in a browser
// without WebAuthn, the passkey boxes stay hidden and everything else on
// the pages works as before.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }

  function fromB64u(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) {
      s += "=";
    }
    var bin = atob(s);
    var b = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      b[i] = bin.charCodeAt(i);
    }
    return b.buffer;
  }

  function toB64u(buf) {
    var b = new Uint8Array(buf);
    var s = "";
    for (var i = 0; i < b.length; i++) {
      s += String.fromCharCode(b[i]);
    }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(o) {
    o.challenge = fromB64u(o.challenge);
    o.user.id = fromB64u(o.user.id);
    (o.excludeCredentials || []).forEach(function (c) { c.id = fromB64u(c.id); });
    return o;
  }

  function requestOptions(o) {
    o.challenge = fromB64u(o.challenge);
    (o.allowCredentials || []).forEach(function (c) { c.id = fromB64u(c.id); });
    return o;
  }

  // credentialJSON is the JSON form of a PublicKeyCredential (WebAuthn
  // Level 3 §5.1, RegistrationResponseJSON / AuthenticationResponseJSON).
  // The server asks for no extensions, so it gets no extension outputs.
  function credentialJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: toB64u(cred.rawId),
      type: cred.type,
      clientExtensionResults: {},
      response: { clientDataJSON: toB64u(r.clientDataJSON) }
    };
    if (cred.authenticatorAttachment) {
      out.authenticatorAttachment = cred.authenticatorAttachment;
    }
    if (r.attestationObject) {
      out.response.attestationObject = toB64u(r.attestationObject);
      if (r.getTransports) {
        out.response.transports = r.getTransports();
      }
    } else {
      out.response.authenticatorData = toB64u(r.authenticatorData);
      out.response.signature = toB64u(r.signature);
      if (r.userHandle) {
        out.response.userHandle = toB64u(r.userHandle);
      }
    }
    return out;
  }

  function post(url, form, extra) {
    var body = new URLSearchParams(new FormData(form));
    Object.keys(extra || {}).forEach(function (k) { body.set(k, extra[k]); });
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (resp) {
      return resp.json().catch(function () {
        return { error: "The server answered unexpectedly (" + resp.status + "). Reload the page and try again." };
      });
    });
  }

  function browserError(e) {
    switch (e && e.name) {
      case "NotAllowedError":
        return "The passkey request was cancelled or timed out.";
      case "InvalidStateError":
        return "This authenticator already holds a passkey for your account here.";
      case "SecurityError":
        return "This site's address does not match its passkey settings; tell whoever runs it.";
    }
    return "Your browser could not use a passkey" + (e && e.message ? ": " + e.message : ".");
  }

  // ceremony runs the ceremony of form. conditional runs a sign-in as
  // conditional UI (the browser offers passkeys in the username field's
  // autofill) until signal aborts it.
  function ceremony(form, conditional, signal) {
    var box = form.parentNode.querySelector("[data-passkey-error]");
    function show(msg) {
      if (box) {
        box.textContent = msg || "";
        box.hidden = !msg;
      }
    }
    if (!conditional) {
      show("");
    }
    return post(form.dataset.begin, form).then(function (begin) {
      if (signal && signal.aborted) {
        return null;
      }
      if (!begin.options) {
        if (begin.redirect) {
          window.location.assign(begin.redirect);
        } else if (!conditional) {
          show(begin.error || "Passkeys are not available right now.");
        }
        return null;
      }
      var pk = begin.options.publicKey;
      var req;
      if (form.dataset.kind === "register") {
        req = navigator.credentials.create({ publicKey: creationOptions(pk) });
      } else {
        var opts = { publicKey: requestOptions(pk) };
        if (conditional) {
          opts.mediation = "conditional";
        }
        if (signal) {
          opts.signal = signal;
        }
        req = navigator.credentials.get(opts);
      }
      return req.then(function (cred) {
        if (!cred) {
          return null;
        }
        return post(form.dataset.finish, form, { credential: JSON.stringify(credentialJSON(cred)) }).then(function (fin) {
          if (fin.redirect) {
            window.location.assign(fin.redirect);
            return;
          }
          show(fin.error || "The passkey was not accepted.");
        });
      }, function (e) {
        if (conditional && e && e.name === "AbortError") {
          return;
        }
        show(browserError(e));
      });
    }, function () {
      show("The server could not be reached. Check your connection and try again.");
    });
  }

  document.querySelectorAll("[data-passkey-box]").forEach(function (b) { b.hidden = false; });

  var conditional = null;
  var abort = null;
  var loginForm = document.querySelector('form[data-kind="login"]');
  if (loginForm && PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
      if (ok && !abort) {
        abort = new AbortController();
        conditional = ceremony(loginForm, true, abort.signal).catch(function () {});
      }
    }, function () {});
  }

  document.querySelectorAll("form[data-kind]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var button = form.querySelector("button");
      button.disabled = true;
      // A conditional sign-in in progress ends first, so that its
      // ceremony cookie cannot replace this one's.
      var before = Promise.resolve();
      if (abort) {
        abort.abort();
        before = conditional || before;
      }
      abort = new AbortController();
      before.then(function () {
        return ceremony(form, false, null);
      }).finally(function () {
        button.disabled = false;
      });
    });
  });
})();
