// The monthly report's comments: a small rich editor over the plain textarea (which stays the
// form's field and works without scripts). The server sanitises whatever arrives; the editor keeps
// only the same tags so what is seen is what is kept.
(function () {
  "use strict";
  const ALLOWED = new Set(["P", "BR", "STRONG", "B", "EM", "I", "U", "UL", "OL", "LI", "A", "H3", "H4", "BLOCKQUOTE", "DIV"]);

  function clean(html) {
    const doc = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
    const walk = (node) => {
      for (const child of Array.from(node.children)) {
        if (!ALLOWED.has(child.tagName)) {
          if (["SCRIPT", "STYLE", "IFRAME", "OBJECT"].includes(child.tagName)) {
            child.remove();
            continue;
          }
          child.replaceWith(...child.childNodes);
          walk(node);
          return;
        }
        for (const attribute of Array.from(child.attributes)) {
          const keep = child.tagName === "A" && attribute.name === "href" && /^(https?:|mailto:)/i.test(attribute.value);
          if (!keep) child.removeAttribute(attribute.name);
        }
        walk(child);
      }
    };
    walk(doc.body);
    return doc.body.innerHTML;
  }

  document.querySelectorAll(".rich-editor[data-for]").forEach((editor) => {
    const field = document.getElementById(editor.dataset.for);
    const toolbar = editor.parentElement.querySelector(".rich-toolbar");
    if (!field) return;
    editor.innerHTML = clean(field.value);
    editor.hidden = false;
    if (toolbar) toolbar.hidden = false;
    field.hidden = true;
    const sync = () => { field.value = clean(editor.innerHTML); };
    editor.addEventListener("input", sync);
    field.form.addEventListener("submit", sync);
    if (toolbar) {
      toolbar.addEventListener("click", (event) => {
        const button = event.target.closest("button[data-command]");
        if (!button) return;
        editor.focus();
        let value = null;
        if (button.dataset.prompt) {
          value = window.prompt(button.dataset.prompt, "https://");
          if (!value || !/^(https?:|mailto:)/i.test(value)) return;
        }
        document.execCommand(button.dataset.command, false, value);
        sync();
      });
    }
  });
})();
