// The page's browser code, loaded once in <head> (genai_demo/ui/page.py launch_options). Events call these
// functions by name (globalThis.genai), so no event carries code of its own.
globalThis.genai = {
  // The panel's settings as a share link (?tab=&model=&seed=...), keeping lang and teacher, put in the address
  // bar; with copy, also on the clipboard. genai_demo/links.py build_query is the same in Python.
  link(tab, model, names, values, copy) {
    const url = new URL(window.location.href);
    const query = new URLSearchParams();
    query.set("tab", tab);
    query.set("model", model);
    names.forEach((name, i) => query.set(name, String(values[i])));
    for (const keep of ["lang", "teacher"]) {
      const v = url.searchParams.get(keep);
      if (v !== null) query.set(keep, v);
    }
    url.search = query.toString();
    url.hash = "";
    const link = url.toString();
    window.history.replaceState(null, "", link);
    if (copy) {
      try { navigator.clipboard.writeText(link).catch(() => {}); } catch (e) {}
    }
    return link;
  },

  // Show the page in lang at once. Gradio has no public call for this: its own Settings panel calls changeLocale
  // in the frontend's core module, which importing the module again by the URL the page loaded it from reaches.
  // tests/test_browser.py fails if a Gradio upgrade renames either.
  async setLanguage(lang) {
    const core = performance.getEntriesByType("resource").map((e) => e.name)
      .find((n) => /\/assets\/core-[^/]*\.js$/.test(n));
    if (core) {
      try { (await import(core)).changeLocale(lang); } catch (e) { console.warn("language switch failed", e); }
    }
    document.documentElement.lang = lang;
  },

  // The language switch: change the page now and keep ?lang= in the address, so a copied link keeps it too.
  async switchLanguage(lang) {
    await genai.setLanguage(lang);
    const url = new URL(window.location.href);
    url.searchParams.set("lang", lang);
    window.history.replaceState(null, "", url.toString());
    return lang;
  },

  // On load: ?lang= wins over the browser's language (which the frontend already applied).
  async startLanguage() {
    const q = new URLSearchParams(window.location.search).get("lang");
    let lang = (q || "").toLowerCase().split("-")[0];
    if (["en", "ko"].includes(lang)) await genai.setLanguage(lang);
    else lang = (navigator.language || "en").toLowerCase().startsWith("ko") ? "ko" : "en";
    return lang;
  },
};
