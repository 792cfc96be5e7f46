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

// "Draw a digit" (genai_demo/ui/draw.py): a picture over the upload limit is refused here, before Gradio's own
// check, which says so only in English. The line is the page's own, in its language (#draw-too-large, translated by
// the page like any text), shown under the upload box; the file never leaves the browser.
genai.DRAW_MAX_BYTES = 10 * 1024 * 1024;
genai.drawTooLarge = (event) => {
  const box = event.target?.closest?.("#draw-upload");
  const files = event.dataTransfer?.files || event.target?.files;
  if (!box || !files || ![...files].some((f) => f.size > genai.DRAW_MAX_BYTES)) return;
  event.stopImmediatePropagation();
  event.preventDefault();
  if (event.target.value !== undefined && event.target.type === "file") event.target.value = "";
  const line = document.querySelector("#draw-too-large")?.innerText?.trim() || "";
  const note = document.querySelector("#draw-upload-note");
  if (note) note.innerText = "\u26a0\ufe0f " + line;
};
for (const kind of ["change", "drop"]) document.addEventListener(kind, genai.drawTooLarge, true);

// Alt text: Gradio gives a gallery's thumbnails an empty alt (decorative) and the caption as their title. The
// playground's captions say what each picture is ("Generated digit 7, GAN, seed 12"), so they become the alt text.
genai.altFromCaptions = () => {
  for (const img of document.querySelectorAll(".genai-gallery img[title]")) {
    if (img.getAttribute("alt") !== img.title) img.setAttribute("alt", img.title);
  }
};
new MutationObserver(() => genai.altFromCaptions()).observe(document.documentElement,
  {subtree: true, childList: true, attributes: true, attributeFilter: ["title", "src"]});
