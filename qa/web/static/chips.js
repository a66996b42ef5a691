// A click on a chip sends its document, its offsets and those of the chips beside it in the same turn.
if (!element.dataset.qaChips) {
  element.dataset.qaChips = "1";
  element.addEventListener("click", (event) => {
    const chip = event.target.closest("button.chip");
    if (!chip || !chip.dataset.doc) return;
    const turn = chip.closest(".turn") || element;
    const spans = [...turn.querySelectorAll("button.chip")]
      .filter((c) => c.dataset.doc === chip.dataset.doc)
      .map((c) => [Number(c.dataset.start), Number(c.dataset.end)]);
    trigger("cite", {doc_id: chip.dataset.doc, start: Number(chip.dataset.start), end: Number(chip.dataset.end), spans});
  });
}
