/* The TV portal: screens drawn from /tv/portal/api, driven by the remote's keys only.
   Plain ES2015 with promises (no build step, no framework): set-top boxes are slow and their
   browsers old. Every text comes from the server in the elder's language. */
(function () {
  "use strict";
  // The page's settings are a JSON data block: the page runs no inline script (its CSP).
  var CONFIG = JSON.parse(document.getElementById("linli-config").textContent);
  var TOKEN = "linli.tv.token";
  var SERIAL = "linli.tv.serial";
  var KEYS = {
    up: [38], down: [40], left: [37], right: [39], ok: [13],
    back: [8, 27, 461, 10009, 166, 4],
    red: [403, 275, 183], green: [404, 276, 184], yellow: [405, 277, 185], blue: [406, 278, 186]
  };
  var NAMED = { ColorF0Red: "red", ColorF1Green: "green", ColorF2Yellow: "yellow", ColorF3Blue: "blue",
    GoBack: "back", BrowserBack: "back" };

  var texts = CONFIG.texts;
  var home = null;
  var stack = [];
  var spokenOn = null;
  var speakTimer = null;
  var events = null;
  var alarm = null;
  var overlay = null;
  var screenEl = document.getElementById("screen");
  var voice = document.getElementById("voice");

  function t(path, params) {
    var node = texts;
    path.split(".").forEach(function (part) { node = node && node[part]; });
    var s = typeof node === "string" ? node : path;
    Object.keys(params || {}).forEach(function (k) { s = s.split("{" + k + "}").join(String(params[k])); });
    return s;
  }

  function key() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  // Talking to the server

  function api(method, path, body) {
    var headers = { "Authorization": "Bearer " + localStorage.getItem(TOKEN) };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch("/tv/portal/api" + path, { method: method, headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body) }).then(function (r) {
      if (r.status === 401) { unpaired(); throw new Error("unpaired"); }
      return r.json().then(function (data) {
        if (!r.ok) { data.refused = true; }
        return data;
      });
    });
  }

  // Speaking

  function say(url) {
    if (!url) return;
    voice.src = url;
    var playing = voice.play();
    if (playing && playing.catch) playing.catch(function () {});
  }

  function speakFocused() {
    if (!home || !home.readAloud) return;
    var focused = document.activeElement;
    if (!focused || !focused.dataset || focused === spokenOn) return;
    clearTimeout(speakTimer);
    // Once the remote rests on an item: not on every step through a list.
    speakTimer = setTimeout(function () {
      if (document.activeElement === focused && focused !== spokenOn) {
        spokenOn = focused;
        say(focused.dataset.aloud);
      }
    }, 600);
  }

  // Screens: a title, some words, and items to move between

  function items() { return Array.prototype.slice.call(screenEl.querySelectorAll(".item")); }

  function show(screen) {
    document.body.classList.toggle("alarm", !!screen.alarm);
    screenEl.innerHTML = "";
    screenEl.dataset.screen = screen.name;
    screenEl.appendChild(el("h1", { text: screen.title }));
    (screen.words || []).forEach(function (w) { screenEl.appendChild(el("p", { className: w.className || "say", text: w.text })); });
    if (screen.extra) screenEl.appendChild(screen.extra);
    var box = el("div", { className: screen.grid ? "grid" : "list" });
    (screen.items || []).forEach(function (item, i) {
      var b = el("button", { className: "item", type: "button", "data-key": item.key || String(i) });
      if (item.digit) b.dataset.digit = item.digit;
      if (item.alarm) b.classList.add("raise");
      b.appendChild(document.createTextNode(item.label));
      if (item.sub) b.appendChild(el("span", { className: "sub", text: item.sub }));
      if (item.aloud) b.dataset.aloud = item.aloud;
      if (!item.act) b.setAttribute("aria-disabled", "true");
      b.onclick = function () { if (item.act) item.act(); };
      box.appendChild(b);
    });
    if ((screen.items || []).length) screenEl.appendChild(box);
    spokenOn = null;
    var first = items()[screen.focus || 0];
    if (first) first.focus();
    if (screen.aloud && home && home.readAloud) { say(screen.aloud); spokenOn = first || null; }
    else speakFocused();
  }

  function open(build) {
    stack.push(build);
    return render();
  }

  function render() {
    var build = stack[stack.length - 1];
    screenEl.setAttribute("aria-busy", "true");
    return Promise.resolve(build()).then(function (screen) {
      screenEl.removeAttribute("aria-busy");
      if (screen) show(screen);
      // Keys pressed while the screen was coming are not lost: a slow box still follows.
      var waiting = queued;
      queued = [];
      waiting.forEach(function (k) { handle(k); });
    }).catch(function (e) {
      screenEl.removeAttribute("aria-busy");
      if (e.message !== "unpaired") show({ name: "error", title: t("title"), words: [{ text: t("network") }], items: [] });
    });
  }

  function back() {
    if (stack.length > 1) { stack.pop(); render(); }
  }

  function backHome() { stack = stack.slice(0, 1); render(); }

  function result(data, title) {
    // What happened, in words; then back where the elder came from.
    return { name: "result", title: title, words: [{ text: data.text || data.message }], aloud: data.readAloudUrl,
      items: [{ label: t("back"), act: backHome }] };
  }

  function confirm(title, asked, doIt) {
    return asked.then(function (words) {
      if (words.refused) return result(words, title);
      return { name: "confirm", title: title, words: [{ text: words.text }], aloud: words.readAloudUrl,
        items: [
          { label: t("ok"), act: function () {
            stack.push(function () { return doIt().then(function (done) { return result(done, title); }); });
            render();
          } },
          { label: t("back"), act: back }
        ] };
    });
  }

  var SCREENS = {
    home: function () {
      return api("GET", "/home").then(function (data) {
        home = data;
        texts = data.texts;
        document.documentElement.lang = data.locale;
        document.documentElement.style.setProperty("--scale", String(Math.min(2, data.fontScale)));
        document.getElementById("community").textContent = data.community;
        document.getElementById("hint").textContent = t("keys_hint");
        listen();
        // The home every door shows, keys and all; the alarm's entry raises it as the red key
        // does, and the first entry focused is another (OK pressed by chance alarms nobody).
        var calm = 0;
        while (calm < data.buttons.length - 1 && data.buttons[calm].action === "emergency") calm++;
        return { name: "home", title: data.greeting.text, grid: true, aloud: data.greeting.readAloudUrl,
          focus: calm,
          items: data.buttons.map(function (b) {
            return { key: b.key, digit: b.digit, label: b.label, aloud: b.readAloudUrl, alarm: b.action === "emergency",
              act: b.action === "emergency" ? raiseAlarm : function () { open(SCREENS[b.key]); } };
          }) };
      });
    },
    meals: function () {
      return api("GET", "/menu").then(function (data) {
        var list = [];
        data.meals.forEach(function (meal) {
          meal.dishes.forEach(function (d) {
            var can = meal.open && d.left > 0;
            list.push({ key: d.code, label: d.name + "  " + d.price,
              sub: meal.title + " · " + (can ? meal.orderBefore + " · " : "") + d.state,
              aloud: d.readAloudUrl, act: can ? function () { open(function () { return quantity(meal, d); }); } : null });
          });
        });
        return { name: "menu", title: t("buttons.meals.label"), words: list.length ? [] : [{ text: data.none }], items: list };
      });
    },
    services: function () {
      return api("GET", "/services").then(function (data) {
        return { name: "services", title: t("buttons.services.label"),
          words: data.services.length ? [] : [{ text: t("empty.services") }],
          items: data.services.map(function (s) {
            return { key: s.code, label: s.name, sub: s.price, aloud: s.readAloudUrl,
              act: function () { open(function () { return slots(s); }); } };
          }) };
      });
    },
    orders: function () {
      return api("GET", "/orders").then(function (data) {
        return { name: "orders", title: t("buttons.orders.label"),
          words: data.items.length ? [] : [{ text: t("empty.orders") }],
          items: data.items.map(function (o) {
            return { key: o.kind + ":" + o.id, label: o.line, sub: o.by ? o.by + (o.declinable ? " · " + t("orders.decline") : "") : null,
              aloud: o.readAloudUrl, act: o.declinable ? function () {
                open(function () {
                  return confirm(t("orders.decline"), Promise.resolve(o.confirmDecline), function () {
                    return api("POST", "/orders/decline", { kind: o.kind, id: o.id });
                  });
                });
              } : null };
          }) };
      });
    },
    notices: function () {
      return api("GET", "/notices").then(function (data) {
        return { name: "notices", title: t("buttons.notices.label"),
          words: data.notices.length ? [{ text: t("notices.confirm_hint"), className: "hint" }] : [{ text: data.none }],
          items: data.notices.map(function (n) {
            return { key: String(n.id), label: n.title, sub: n.body, aloud: n.readAloudUrl, act: function () {
              api("POST", "/notices/" + n.id + "/confirm", {}).then(function (done) { say(done.readAloudUrl); render(); });
            } };
          }) };
      });
    },
    events: function () {
      return api("GET", "/events").then(function (data) {
        return { name: "events", title: t("buttons.events.label"),
          words: data.events.length ? [] : [{ text: data.none }],
          items: data.events.map(function (e) {
            var leaving = e.mine === "confirmed" || e.mine === "waiting";
            return { key: String(e.id), label: e.when + "  " + e.title, sub: e.place + " · " + e.state, aloud: e.readAloudUrl,
              act: function () {
                open(function () {
                  return confirm(e.title, Promise.resolve(e.confirm), function () {
                    return api("POST", "/events/" + e.id + (leaving ? "/withdraw" : "/signup"), {});
                  });
                });
              } };
          }) };
      });
    },
    announcements: function () {
      return api("GET", "/announcements").then(function (data) {
        return { name: "announcements", title: t("buttons.announcements.label"),
          words: data.announcements.length ? [] : [{ text: data.none }],
          items: data.announcements.map(function (a) {
            return { key: String(a.id), label: a.title, sub: a.plain, aloud: a.readAloudUrl, act: function () {
              open(function () {
                return { name: "announcement", title: a.title, words: [{ text: a.plain }, { text: a.body, className: "hint" }],
                  aloud: a.readAloudUrl, items: [{ label: t("back"), act: back }] };
              });
            } };
          }) };
      });
    },
    contacts: function () {
      return api("GET", "/contacts").then(function (data) {
        return { name: "contacts", title: t("buttons.contacts.label"),
          words: data.contacts.length ? [] : [{ text: t("empty.contacts") }],
          items: data.contacts.map(function (c) {
            return { label: c.name + "  " + c.phone, sub: c.hours, aloud: c.readAloudUrl,
              act: function () { say(c.readAloudUrl); } };
          }) };
      });
    },
    consult: function () {
      return api("GET", "/knowledge").then(function (data) {
        return { name: "consult", title: t("buttons.consult.label"),
          items: data.topics.map(function (topic) {
            return { key: topic.key, label: topic.text, aloud: topic.readAloudUrl,
              act: function () { open(function () { return knowledge(topic); }); } };
          }) };
      });
    },
    mutual_help: function () {
      return api("GET", "/help").then(function (data) {
        var mine = data.requests.map(function (r) {
          return { key: "request:" + r.id, label: r.text, aloud: r.readAloudUrl, act: r.doneable ? function () {
            open(function () {
              return confirm(t("buttons.mutual_help.label"), Promise.resolve(r.confirmDone), function () {
                return api("POST", "/help/" + r.id + "/done", {});
              });
            });
          } : null };
        });
        var kinds = data.kinds.map(function (k) {
          return { key: k.key, label: k.text, aloud: k.readAloudUrl,
            act: function () { open(function () { return helpWhen(k, data.times); }); } };
        });
        return { name: "help", title: t("buttons.mutual_help.label"), words: [{ text: data.asking.text }],
          aloud: data.asking.readAloudUrl, items: mine.concat(kinds) };
      });
    },
    callback: function () {
      var asked = { text: t("callback.confirm") };
      return { name: "callback", title: t("buttons.callback.label"), words: [asked],
        items: [
          { label: t("buttons.callback.label"), act: function () {
            stack.push(function () {
              return api("POST", "/callback", {}).then(function (done) { return result(done, t("buttons.callback.label")); });
            });
            render();
          } },
          { label: t("back"), act: back }
        ] };
    }
  };

  function helpWhen(kind, times) {
    return { name: "help-when", title: kind.text, words: [{ text: t("help.when") }],
      items: times.map(function (at) {
        return { key: at.at, label: at.text, aloud: at.readAloudUrl, act: function () {
          open(function () {
            return confirm(kind.text, Promise.resolve(at.confirm[kind.key]), function () {
              return api("POST", "/help", { kind: kind.key, at: at.at });
            });
          });
        } };
      }) };
  }

  function knowledge(topic) {
    return api("GET", "/knowledge/" + encodeURIComponent(topic.key)).then(function (data) {
      return { name: "knowledge", title: topic.text,
        words: data.articles.length ? [] : [{ text: t("consult.empty") }],
        items: data.articles.map(function (a) {
          return { key: a.id, label: a.question, sub: a.plain, aloud: a.readAloudUrl, act: function () {
            open(function () {
              return { name: "answer", title: a.question, words: [{ text: a.plain }, { text: a.answer, className: "hint" }],
                aloud: a.readAloudUrl, items: [
                  { label: t("consult.helpful"), act: back },
                  { label: t("consult.ask_person"), act: function () {
                    open(function () {
                      return confirm(t("consult.ask_person"), Promise.resolve(a.askConfirm), function () {
                        return api("POST", "/knowledge/" + encodeURIComponent(a.id) + "/ask", {});
                      });
                    });
                  } }
                ] };
            });
          } };
        }) };
    });
  }

  function quantity(meal, dish) {
    var counts = [];
    for (var n = 1; n <= dish.mostPortions; n++) counts.push(n);
    return { name: "quantity", title: dish.name, words: [{ text: t("menu.quantity") }],
      items: counts.map(function (n) {
        return { key: String(n), label: t("menu.portions", { n: n }), act: function () {
          var ways = [];
          if (meal.delivers) ways.push("delivery");
          if (meal.pickUp) ways.push("pickup");
          if (ways.length === 1) { open(function () { return orderConfirm(dish, n, ways[0]); }); return; }
          open(function () {
            return { name: "fulfilment", title: dish.name, words: [{ text: t("menu.fulfilment") }],
              items: ways.map(function (w) {
                return { key: w, label: t(w === "delivery" ? "menu.deliver" : "menu.pick_up"),
                  act: function () { open(function () { return orderConfirm(dish, n, w); }); } };
              }) };
          });
        } };
      }) };
  }

  function orderConfirm(dish, n, way) {
    var order = { product: dish.code, quantity: n, fulfilment: way, key: key() };
    return confirm(dish.name, api("POST", "/menu/confirm", order), function () {
      return api("POST", "/menu/order", order);
    });
  }

  function slots(service) {
    return api("GET", "/services/" + encodeURIComponent(service.code) + "/slots").then(function (data) {
      return { name: "slots", title: service.name,
        words: [{ text: data.slots.length ? t("services.pick_slot") : t("empty.slots") }],
        items: data.slots.map(function (s) {
          return { key: s.start, label: s.text, aloud: s.readAloudUrl, act: function () {
            var booking = { service: service.code, start: s.start, key: key() };
            open(function () {
              return confirm(service.name, api("POST", "/services/confirm", booking), function () {
                return api("POST", "/services/book", booking);
              });
            });
          } };
        }) };
    });
  }

  // The red key: the alarm, then its state, live, full screen

  function raiseAlarm() {
    if (!home) return;
    hideOverlay();
    var press = { key: key() };
    var title = t("alarm.title");
    alarm = { id: null };
    stack.push(function () { return alarmScreen(t("alarm.sending"), null); });
    render();
    api("POST", "/alarm", press).then(function (state) {
      if (state.refused) { showAlarm({ text: state.message || t("alarm.failed"), readAloudUrl: state.readAloudUrl }); return; }
      alarm.id = state.alertId;
      showAlarm(state);
    }).catch(function () { showAlarm({ text: t("alarm.failed") }); });
    return title;
  }

  function alarmScreen(text, url) {
    return { name: "alarm", alarm: true, title: t("alarm.title"),
      words: [{ text: text, className: "alarm-state" }, { text: t("alarm.hint"), className: "hint" }],
      aloud: url, items: [] };
  }

  function showAlarm(state) {
    if (!alarm) return;
    stack[stack.length - 1] = function () { return alarmScreen(state.text, null); };
    show(alarmScreen(state.text, null));
    screenEl.dataset.status = state.status || "";
    say(state.readAloudUrl);
  }

  function alarmChanged() {
    if (!alarm || !alarm.id) return;
    api("GET", "/alarm/" + alarm.id).then(function (state) {
      if (state.refused || !alarm) return;
      if (screenEl.dataset.status === state.status && screenEl.querySelector(".alarm-state").textContent === state.text) return;
      showAlarm(state);
    }).catch(function () {});
  }

  // The one live connection: messages, the home's alarm, the end of the pairing

  function listen() {
    if (events) return;
    api("POST", "/ticket", {}).then(function (data) {
      events = new EventSource("/tv/portal/events?ticket=" + encodeURIComponent(data.ticket));
      events.addEventListener("notification", function (e) { showOverlay(JSON.parse(e.data)); });
      events.addEventListener("warning", function (e) {
        var w = JSON.parse(e.data);
        queueOverlay(overlayFor("warning", w));
      });
      events.addEventListener("warning_ended", function (e) { dropOverlay("warning", JSON.parse(e.data).id); });
      events.addEventListener("roll_call", lookAround);
      events.addEventListener("roll_call_over", function (e) { dropOverlay("roll_call", JSON.parse(e.data).id); });
      lookAround();
      events.addEventListener("changed", alarmChanged);
      events.addEventListener("unpaired", unpaired);
      events.onerror = function () {
        // The ticket lasts a minute: a broken connection asks for a new one.
        if (events) events.close();
        events = null;
        setTimeout(listen, 3000);
      };
    }).catch(function () { setTimeout(listen, 5000); });
  }

  // Overlays: a message (the tv path), an official warning, a roll-call. One at a time, the
  // most urgent first; OK confirms a message, closes a warning, answers "平安".
  var waitingOverlays = [];
  var closedWarnings = {};

  function overlayFor(kind, n) {
    var full = kind !== "notification" || n.urgency === "emergency";
    var asking = kind === "roll_call" || kind === "check_in";
    var hint = kind === "warning" ? "overlay.warning_hint" : asking ? "overlay." + kind + "_hint" : "overlay.hint";
    return { kind: kind, id: n.id, title: n.title || n.text, body: asking ? n.text : n.body,
      hint: t(hint), full: full, readAloudUrl: n.readAloudUrl, rank: kind === "warning" ? 0 : asking ? 1 : full ? 2 : 3 };
  }

  function queueOverlay(o) {
    if (overlay && overlay.kind === o.kind && overlay.id === o.id) return;
    if (waitingOverlays.some(function (w) { return w.kind === o.kind && w.id === o.id; })) return;
    waitingOverlays.push(o);
    waitingOverlays.sort(function (a, b) { return a.rank - b.rank; });
    if (!overlay || waitingOverlays[0].rank < overlay.rank) {
      if (overlay) waitingOverlays.push(overlay);
      nextOverlay();
    }
  }

  function dropOverlay(kind, id) {
    waitingOverlays = waitingOverlays.filter(function (w) { return !(w.kind === kind && w.id === id); });
    if (overlay && overlay.kind === kind && overlay.id === id) { hideOverlay(); nextOverlay(); }
  }

  function nextOverlay() {
    waitingOverlays.sort(function (a, b) { return a.rank - b.rank; });
    var o = waitingOverlays.shift();
    if (!o) return;
    overlay = o;
    var box = document.getElementById("overlay");
    box.className = o.full ? "full" : "";
    box.dataset.kind = o.kind;
    box.dataset.id = String(o.id);
    document.getElementById("overlay-title").textContent = o.title;
    document.getElementById("overlay-body").textContent = o.body || "";
    document.getElementById("overlay-hint").textContent = o.hint;
    box.hidden = false;
    say(o.readAloudUrl);
  }

  function showOverlay(n) { queueOverlay(overlayFor("notification", n)); }

  function hideOverlay() {
    overlay = null;
    document.getElementById("overlay").hidden = true;
  }

  function confirmOverlay() {
    var o = overlay;
    hideOverlay();
    var done;
    if (o.kind === "notification") done = api("POST", "/notices/" + o.id + "/confirm", {});
    else if (o.kind === "roll_call") done = api("POST", "/roll-calls/" + o.id + "/safe", {});
    else if (o.kind === "check_in") done = api("POST", "/check-in", {});
    else { closedWarnings[o.id] = true; done = Promise.resolve({}); }
    done.then(function (said) {
      if (said.readAloudUrl) say(said.readAloudUrl);
      if (screenEl.dataset.screen === "notices") render();
      nextOverlay();
    }).catch(function () { nextOverlay(); });
  }

  function lookAround() {
    // What is in force for the home now: warnings, a roll-call not yet answered, and the
    // day's check-in not yet given.
    api("GET", "/warnings").then(function (data) {
      data.warnings.forEach(function (w) { if (!closedWarnings[w.id]) queueOverlay(overlayFor("warning", w)); });
    }).catch(function () {});
    api("GET", "/roll-calls").then(function (data) {
      data.rollCalls.forEach(function (r) { if (!r.answered) queueOverlay(overlayFor("roll_call", r)); });
    }).catch(function () {});
    api("GET", "/check-in").then(function (data) {
      if (data.due) queueOverlay(overlayFor("check_in", data));
    }).catch(function () {});
  }

  // Pairing: a code to read off the screen and a QR code to scan, read aloud

  function serial() {
    var given = new URLSearchParams(location.search).get("serial");
    if (given) localStorage.setItem(SERIAL, given);
    if (!localStorage.getItem(SERIAL)) localStorage.setItem(SERIAL, "web-" + key());
    return localStorage.getItem(SERIAL);
  }

  var pairing = null;

  function pair() {
    home = null;
    stack = [];
    if (events) { events.close(); events = null; }
    document.body.classList.remove("alarm");
    clearTimeout(pairing);
    fetch("/tv/device/code", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "serial=" + encodeURIComponent(serial()) }).then(function (r) { return r.json(); }).then(function (grant) {
      return fetch("/tv/portal/pairing/words?code=" + encodeURIComponent(grant.user_code) + "&lang=" + CONFIG.lang)
        .then(function (r) { return r.json(); }).then(function (words) {
          screenEl.innerHTML = "";
          screenEl.dataset.screen = "pairing";
          screenEl.appendChild(el("h1", { text: t("pairing.title") }));
          var qr = el("img", { src: words.qr, alt: t("pairing.how") });
          var right = el("div", {}, [el("p", { className: "say", text: t("pairing.how") }),
            el("p", { className: "code", id: "user-code", text: grant.user_code }),
            el("p", { className: "hint", id: "pairing-state", text: t("pairing.waiting") })]);
          screenEl.appendChild(el("div", { className: "pair" }, [qr, right]));
          say(words.readAloudUrl);
          var until = Date.now() + grant.expires_in * 1000;
          var poll = function () {
            if (Date.now() > until) { pair(); return; }
            fetch("/tv/device/token", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
              body: "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=" +
                encodeURIComponent(grant.device_code) }).then(function (r) { return r.json(); }).then(function (answer) {
              if (answer.access_token) {
                localStorage.setItem(TOKEN, answer.access_token);
                start();
              } else if (answer.error === "expired_token" || answer.error === "invalid_grant") {
                pair();
              } else {
                pairing = setTimeout(poll, (grant.interval + (answer.error === "slow_down" ? 5 : 0)) * 1000);
              }
            }).catch(function () { pairing = setTimeout(poll, grant.interval * 1000); });
          };
          pairing = setTimeout(poll, grant.interval * 1000);
        });
    }).catch(function () {
      screenEl.innerHTML = "";
      screenEl.appendChild(el("p", { className: "say", text: t("pairing.failed") }));
      pairing = setTimeout(pair, 10000);
    });
  }

  function unpaired() {
    localStorage.removeItem(TOKEN);
    pair();
  }

  function start() {
    clearTimeout(pairing);
    stack = [];
    open(SCREENS.home);
  }

  // The remote

  function which(e) {
    if (NAMED[e.key]) return NAMED[e.key];
    var code = e.keyCode;
    for (var name in KEYS) if (KEYS[name].indexOf(code) >= 0) return name;
    if (code >= 48 && code <= 57) return "digit" + (code - 48);
    if (code >= 96 && code <= 105) return "digit" + (code - 96);
    return null;
  }

  function move(step) {
    var list = items();
    if (!list.length) return;
    var at = list.indexOf(document.activeElement);
    var next = Math.max(0, Math.min(list.length - 1, (at < 0 ? 0 : at + step)));
    list[next].focus();
    speakFocused();
  }

  var queued = [];

  document.addEventListener("keydown", function (e) {
    var k = which(e);
    if (!k) return;
    e.preventDefault();
    if (k !== "red" && !overlay && screenEl.hasAttribute("aria-busy")) {
      if (queued.length < 4) queued.push(k);
      return;
    }
    handle(k);
  });

  function handle(k) {
    if (k === "red") { raiseAlarm(); return; }
    if (overlay) {
      if (k === "ok") confirmOverlay();
      else if (k === "back") { hideOverlay(); nextOverlay(); }
      return;
    }
    if (!home) return;
    var columns = screenEl.querySelector(".grid") ? 4 : 1;
    if (k === "up") move(-columns);
    else if (k === "down") move(columns);
    else if (k === "left") move(-1);
    else if (k === "right") move(1);
    else if (k === "ok") { if (document.activeElement && document.activeElement.click) document.activeElement.click(); }
    else if (k === "back") {
      if (alarm) { alarm = null; document.body.classList.remove("alarm"); backHome(); } else back();
    } else if (k.indexOf("digit") === 0) {
      // The home's entries carry their own keys (the phone's too); other lists count 1..9, 0 the tenth.
      var list = items();
      var keyed = list.filter(function (b) { return b.dataset.digit === k.slice(5); })[0];
      var n = Number(k.slice(5)) || 10;
      var chosen = screenEl.dataset.screen === "home" ? keyed : list[n - 1];
      if (chosen) { chosen.focus(); chosen.click(); }
    }
  }

  if (localStorage.getItem(TOKEN)) start(); else pair();
})();
