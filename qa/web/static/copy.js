// A click on "Copy" puts the answer or summary, with its numbered sources, on the clipboard as Markdown
// (the text rides in the button's data-copy). Without the Clipboard API (a page served over plain http to
// another host is not a secure context) a hidden textarea and execCommand("copy") do it.
if (!element.dataset.qaCopy) {
  element.dataset.qaCopy = "1";
  const fallback = (text) => {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    return done;
  };
  element.addEventListener("click", async (event) => {
    const button = event.target.closest("button.copy");
    if (!button) return;
    const text = button.dataset.copy || "";
    let done = false;
    try {
      await navigator.clipboard.writeText(text);
      done = true;
    } catch (e) {
      done = fallback(text);
    }
    button.textContent = done ? "Copied" : "Copy failed";
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  });
}
