// Conditional fields of a catalogue form: a field with data-show-if is shown (and submitted)
// only while the field it depends on has the value data-show-value. Hidden fields are
// disabled, so the browser never sends them; the server refuses them anyway.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("service-form");
  if (!form) return;
  const valuesOf = (key) => {
    const values = [];
    form.querySelectorAll(`[name="${key}"]`).forEach((el) => {
      if (el.disabled) return;
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) values.push(el.value);
      } else if (el.value) values.push(el.value);
    });
    return values;
  };
  const update = () => {
    form.querySelectorAll("[data-show-if]").forEach((wrapper) => {
      const show = valuesOf(wrapper.dataset.showIf).includes(wrapper.dataset.showValue);
      wrapper.hidden = !show;
      wrapper.querySelectorAll("input, select, textarea").forEach((el) => { el.disabled = !show; });
    });
  };
  form.addEventListener("change", update);
  update();
});
