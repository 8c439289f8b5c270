// The staff console: sign in, list open alarms, follow them live, act on them, sound while
// one is unacknowledged. Plain DOM; every word comes from content/ through the page's settings.
"use strict";
(() => {
  // The page's settings are a JSON data block: the page runs no inline script (its CSP).
  const { texts, documents } = JSON.parse(document.getElementById("linli-config").textContent);
  const $ = (id) => document.getElementById(id);
  const t = (key, params = {}) =>
    String(key.split(".").reduce((node, part) => (node || {})[part], texts) ?? key).replace(
      /\{(\w+)\}/g,
      (_, name) => params[name] ?? ""
    );
  let token = sessionStorage.getItem("linli.console.token");
  let socket = null;
  let audio = null;
  let beeping = null;

  document.querySelectorAll("[data-text]").forEach((el) => (el.textContent = t(el.dataset.text)));
  $("title").textContent = t("title");
  $("sign-out").textContent = t("sign_out");

  async function gql(name, variables = {}) {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: documents[name], variables }),
    });
    const body = await response.json();
    if (body.errors && body.errors.length) {
      const error = new Error(body.errors[0].message);
      error.code = (body.errors[0].extensions || {}).code;
      throw error;
    }
    return body.data;
  }

  function say(text) {
    $("message").textContent = text || "";
  }

  // A sound needs a user gesture first: the sign-in click (or any click) unlocks it.
  function unlockAudio() {
    if (!audio && window.AudioContext) audio = new AudioContext();
    if (audio && audio.state === "suspended") audio.resume();
  }
  function beep() {
    if (!audio) return;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.2;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.4);
  }
  function sound(on, count) {
    document.body.dataset.sounding = on ? "yes" : "no";
    $("banner").textContent = on ? t("unacknowledged", { count }) : "";
    if (on && !beeping) {
      beep();
      beeping = setInterval(beep, 2000);
    } else if (!on && beeping) {
      clearInterval(beeping);
      beeping = null;
    }
  }

  function field(dl, label, value) {
    if (!value) return;
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = value;
    dl.append(dt, dd);
  }

  function button(label, action, name) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.name = name;
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        await action();
      } catch (error) {
        say(t("failed", { message: error.message }));
      } finally {
        b.disabled = false;
        await refresh();
      }
    });
    return b;
  }

  async function act(name, variables, resultKey) {
    const data = await gql(name, variables);
    const result = data[resultKey];
    if (result && "code" in result) throw new Error(result.message); // a UserError
  }

  const locations = new Map(); // alarm id -> the band's location, once asked (null: none kept)

  function placeText(where) {
    if (!where) return t("no_location");
    const lat = where.lat.toFixed(5);
    const lon = where.lon.toFixed(5);
    return where.accuracyM != null ? t("place_near", { lat, lon, metres: where.accuracyM }) : t("place", { lat, lon });
  }

  function card(alarm) {
    const el = document.createElement("article");
    el.className = `alarm ${alarm.status}`;
    el.dataset.id = alarm.id;
    el.dataset.status = alarm.status;
    const h = document.createElement("h2");
    const age = alarm.elder.age != null ? ` · ${t("age", { age: alarm.elder.age })}` : "";
    h.textContent = `${alarm.elder.name}${age} · ${t("status." + alarm.status)}`;
    el.append(h);
    if (alarm.unanswered) {
      const p = document.createElement("p");
      p.className = "unanswered";
      p.textContent = t("unanswered");
      el.append(p);
    }
    if (alarm.callEmergencyServices) {
      const p = document.createElement("p");
      p.className = "call120";
      p.textContent = t("call_120");
      el.append(p);
    }
    const dl = document.createElement("dl");
    field(dl, t("address"), alarm.elder.address);
    field(dl, t("raised_at"), new Date(alarm.raisedAt).toLocaleString("zh-CN"));
    field(dl, "", [t("source." + alarm.source), alarm.presses > 1 ? t("presses", { count: alarm.presses }) : "", alarm.tier > 1 ? t("tier", { tier: alarm.tier }) : ""].filter(Boolean).join(" · "));
    field(dl, t("phone_of_elder"), alarm.elder.phone);
    field(dl, t("family"), alarm.familyPhones.join("  "));
    const profile = alarm.healthProfile;
    if (profile) {
      field(dl, t("notes"), profile.notes);
      field(dl, t("conditions"), profile.conditions);
      field(dl, t("allergies"), profile.allergies);
      field(dl, t("medicines"), profile.medicines);
    } else {
      field(dl, t("notes"), t("no_profile"));
    }
    // Where the band was: asked for with a tap, since every ask is in the elder's health log.
    const fromBand = ["BAND", "FALL", "VITALS"].includes(alarm.source);
    if (fromBand && locations.has(alarm.id)) field(dl, t("band_location"), placeText(locations.get(alarm.id)));
    el.append(dl);
    const actions = document.createElement("div");
    actions.className = "actions";
    const variables = { emergencyId: alarm.id };
    if (fromBand && !locations.has(alarm.id)) {
      actions.append(
        button(t("show_location"), async () => {
          locations.set(alarm.id, (await gql("EmergencyBandLocation", { id: alarm.id })).emergency.bandLocation);
        }, "location")
      );
    }
    if (alarm.status === "OPEN") {
      actions.append(button(t("acknowledge"), () => act("AcknowledgeEmergency", variables, "acknowledgeEmergency"), "acknowledge"));
    }
    if (alarm.status !== "EN_ROUTE" && alarm.status !== "ARRIVED") {
      actions.append(button(t("en_route"), () => act("MarkEmergencyEnRoute", variables, "markEmergencyEnRoute"), "en-route"));
    }
    if (alarm.status !== "ARRIVED") {
      actions.append(button(t("arrived"), () => act("MarkEmergencyArrived", variables, "markEmergencyArrived"), "arrived"));
    }
    const outcome = document.createElement("select");
    outcome.name = "outcome";
    outcome.setAttribute("aria-label", t("outcome"));
    for (const [value, label] of Object.entries(texts.outcomes)) outcome.append(new Option(label, value));
    const note = document.createElement("input");
    note.name = "note";
    note.placeholder = t("note");
    note.maxLength = 500;
    actions.append(
      outcome,
      note,
      button(
        t("resolve"),
        () => act("ResolveEmergency", { ...variables, outcome: outcome.value, note: note.value || null }, "resolveEmergency"),
        "resolve"
      )
    );
    el.append(actions);
    return el;
  }

  function callbackCard(request) {
    const el = document.createElement("article");
    el.className = `callback ${request.reason}`;
    el.dataset.id = request.id;
    const h = document.createElement("h3");
    h.textContent = `${request.personName || t("callback_unknown_caller")} ${request.phone}`;
    el.append(h);
    const dl = document.createElement("dl");
    field(dl, t("requested_at"), new Date(request.requestedAt).toLocaleString("zh-CN"));
    field(dl, t(`callback_reasons.${request.reason}`), t(`callback_asked_of.${request.askedOf}`));
    el.append(dl);
    const actions = document.createElement("div");
    actions.className = "actions";
    actions.append(button(t("callback_done"), () => act("MarkCallbackDone", { id: request.id }, "markCallbackDone"), "done"));
    el.append(actions);
    return el;
  }

  let refreshing = null;
  async function refresh() {
    if (!token) return;
    // One refresh at a time; a live message during one asks for another after it.
    if (refreshing) return refreshing.then(refresh);
    refreshing = (async () => {
      try {
        const data = await gql("ConsoleAlarms");
        const list = $("alarms");
        list.replaceChildren(...data.openEmergencies.map(card));
        if (!data.openEmergencies.length) {
          const p = document.createElement("p");
          p.textContent = t("no_alarms");
          list.append(p);
        }
        const requests = (await gql("CallbackRequests")).callbackRequests;
        const callbacks = $("callback-list");
        callbacks.replaceChildren(...requests.map(callbackCard));
        if (!requests.length) {
          const p = document.createElement("p");
          p.textContent = t("no_callbacks");
          callbacks.append(p);
        }
        // An unknown number asking for help sounds like an alarm until someone rings back.
        const open =
          data.openEmergencies.filter((a) => a.status === "OPEN").length +
          requests.filter((r) => r.reason === "alarm").length;
        sound(open > 0, open);
      } catch (error) {
        if (error.code === "UNAUTHENTICATED") return signOut();
        if (error.code === "FORBIDDEN") return deskOnly();
        say(error.message);
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  // graphql-transport-ws, the protocol the apps use; a dropped socket reconnects, and a
  // slow poll covers anything missed meanwhile.
  function connect() {
    if (!token) return;
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
    const ws = new WebSocket(url, "graphql-transport-ws");
    socket = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "connection_ack") {
        $("connection").textContent = t("live");
        ws.send(JSON.stringify({ id: "alarms", type: "subscribe", payload: { query: documents.EmergencyUpdates } }));
        refresh();
      } else if (message.type === "next") {
        refresh();
      } else if (message.type === "ping") {
        ws.send(JSON.stringify({ type: "pong" }));
      }
    };
    ws.onclose = () => {
      if (socket !== ws || !token) return;
      $("connection").textContent = t("reconnecting");
      setTimeout(connect, 2000);
    };
  }

  function showSignedIn() {
    $("sign-in").hidden = true;
    $("alarms").hidden = false;
    $("callbacks").hidden = false;
    $("sign-out").hidden = false;
    connect();
    refresh();
  }

  // Not staff, but a family doctor or legal adviser answering at a desk: the desk section
  // (desk.js) is all they see.
  async function deskOnly() {
    try {
      if ((await gql("MyDesks")).myDesks.length) {
        $("alarms").hidden = true;
        $("callbacks").hidden = true;
        return;
      }
    } catch (error) {
      // the words below say it
    }
    signOut(t("not_staff"));
  }

  function signOut(reason) {
    token = null;
    sessionStorage.removeItem("linli.console.token");
    if (socket) socket.close();
    socket = null;
    sound(false, 0);
    $("sign-in").hidden = false;
    $("alarms").hidden = true;
    $("callbacks").hidden = true;
    $("sign-out").hidden = true;
    $("connection").textContent = "";
    say(reason || "");
  }

  $("send-code").addEventListener("click", async () => {
    unlockAudio();
    try {
      const data = await gql("RequestLoginCode", { phone: $("phone").value.trim() });
      const r = data.requestLoginCode;
      say(r.__typename === "LoginCodeSent" ? t("code_sent", { phone: r.maskedPhone }) : r.message);
    } catch (error) {
      say(error.message);
    }
  });

  $("sign-in").addEventListener("submit", async (event) => {
    event.preventDefault();
    unlockAudio();
    try {
      const data = await gql("SignIn", { phone: $("phone").value.trim(), code: $("code").value.trim(), client: "console" });
      const r = data.signIn;
      if (r.__typename !== "AuthSession") return say(r.message);
      token = r.accessToken;
      sessionStorage.setItem("linli.console.token", token);
      say("");
      showSignedIn();
    } catch (error) {
      say(error.message);
    }
  });

  // The roles one holds as staff, and the communities they are in as <option>s of `select`
  // (the noticeboard's and the care round's pickers); [] when not staff or not signed in.
  async function staffRoles(select) {
    let me;
    try {
      me = (await gql("Me")).me;
    } catch (error) {
      return [];
    }
    const staff = me.roles.filter((r) => ["GRID_WORKER", "SERVICE_CENTRE", "ADMIN"].includes(r.role));
    const seen = new Map(staff.map((r) => [r.community.id, r.community.name]));
    select.replaceChildren(
      ...[...seen.entries()].map(([value, label]) => Object.assign(document.createElement("option"), { value, textContent: label }))
    );
    return staff;
  }

  // The other sections (board.js, desk.js, care.js) talk and speak through the same helpers.
  window.linliConsole = { gql, t, say, token: () => token, staffRoles };

  $("sign-out").addEventListener("click", () => signOut());
  document.addEventListener("click", unlockAudio);
  setInterval(refresh, 30000);
  if (token) showSignedIn();
})();
