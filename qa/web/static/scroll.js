// The focused sentence of the article view scrolled into view whenever the view changes.
const focus = () => { const m = element.querySelector("#qa-focus"); if (m) m.scrollIntoView({block: "center"}); };
watch("value", focus);
focus();
