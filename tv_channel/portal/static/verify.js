/* Approving a TV: sign in with a code by SMS, type (or scan) the code the TV shows, choose
   whose home it is in (mine, or a parent's whose settings I manage), and bind it. */
(function () {
  "use strict";
  // The page's settings are a JSON data block: the page runs no inline script (its CSP).
  const { texts, documents } = JSON.parse(document.getElementById("linli-config").textContent);
  const KEY = "linli.verify.token";
  let token = sessionStorage.getItem(KEY);
  const $ = (id) => document.getElementById(id);
  const t = (name, params = {}) => Object.keys(params).reduce((s, k) => s.split(`{${k}}`).join(params[k]), texts[name] || name);

  document.querySelectorAll("[data-text]").forEach((node) => { node.textContent = t(node.dataset.text); });
  $("title").textContent = t("title");
  $("tv-code").value = new URLSearchParams(location.search).get("code") || "";

  function tell(text, bad) {
    $("message").textContent = text;
    $("message").className = bad ? "bad" : "";
  }

  async function gql(name, variables = {}) {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: documents[name], variables }),
    });
    const body = await response.json();
    if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
    return body.data;
  }

  async function showHomes() {
    const me = (await gql("Me")).me;
    const links = (await gql("FamilyLinks")).familyLinks.nodes;
    const homes = [{ id: "", label: t("my_home"), show: !!me.household }].concat(
      links
        .filter((l) => l.status === "ACTIVE" && l.mySide === "FAMILY_MEMBER" && l.scopes.includes("MANAGE_SETTINGS"))
        .map((l) => ({ id: l.elder.id, label: t("their_home", { relation: l.relation, name: l.elder.name }), show: true }))
    ).filter((h) => h.show);
    const box = $("homes");
    homes.forEach((h, i) => {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "home";
      input.value = h.id;
      input.checked = i === 0;
      label.append(input, " ", h.label);
      box.append(label, document.createElement("br"));
    });
    $("sign-in").hidden = true;
    $("approve").hidden = false;
  }

  $("send-code").onclick = async () => {
    try {
      const sent = (await gql("RequestLoginCode", { phone: $("phone").value })).requestLoginCode;
      tell(sent.__typename === "LoginCodeSent" ? t("code_sent") : sent.message, sent.__typename !== "LoginCodeSent");
    } catch (e) { tell(t("failed"), true); }
  };

  $("sign-in").onsubmit = async (e) => {
    e.preventDefault();
    try {
      const signed = (await gql("SignIn", { phone: $("phone").value, code: $("code").value })).signIn;
      if (signed.__typename !== "AuthSession") { tell(signed.message, true); return; }
      token = signed.accessToken;
      sessionStorage.setItem(KEY, token);
      tell("");
      await showHomes();
    } catch (err) { tell(t("failed"), true); }
  };

  $("approve").onsubmit = async (e) => {
    e.preventDefault();
    const chosen = document.querySelector("input[name=home]:checked");
    try {
      const done = (await gql("ApproveTvDevice", { userCode: $("tv-code").value, elderId: chosen && chosen.value ? chosen.value : null })).approveTvDevice;
      if (done.__typename === "TvDevice") {
        tell(t("approved", { address: done.householdAddress || "" }));
        $("approve").hidden = true;
      } else tell(done.message, true);
    } catch (err) { tell(t("failed"), true); }
  };

  if (token) showHomes().catch(() => { sessionStorage.removeItem(KEY); token = null; });
})();
