"""A form field as `_field.html` renders it, built in Python.

The agent's ticket page carries a dozen hidden action forms (route, assign, dispatch, escalate,
resolve ...). Through Django's widget templates those fields were the largest part of the page's
server time at a million tickets (bench/bench_pages.py: ~31 % of it, the `<select>` option lists
first). Here the common widgets (text inputs, text areas, selects, check boxes, file inputs) are
built with `format_html` from the same widget context Django's templates use, so the markup is the
same (tests/test_fieldhtml.py compares both for every action form); anything else (radio buttons,
hidden-initial fields ...) still goes through the template.

A model choice field's rows are read once per `cache` (one page render): two forms offering the
same teams (dispatch, escalate) cost one query.
"""

from __future__ import annotations

from django import forms
from django.template.loader import render_to_string
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

# Widgets whose template is `django/forms/widgets/input.html` (or textarea / select) with no
# extra markup; anything else is rendered by Django.
_INPUTS = (
    forms.TextInput,
    forms.NumberInput,
    forms.EmailInput,
    forms.URLInput,
    forms.CheckboxInput,
)


def _attrs(attrs: dict) -> str:
    """`django/forms/widgets/attrs.html`: False drops an attribute, True writes its name."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        else:
            parts.append(f' {conditional_escape(name)}="{conditional_escape(str(value))}"')
    return "".join(parts)


def _choices(field: forms.Field, cache: dict | None) -> list[tuple]:
    """(value, label) of a choice field; a model choice field's rows read once per cache."""
    # A field that builds its own choices (e.g. grouped by system) is asked for them as is.
    if not isinstance(field, forms.ModelChoiceField) or (
        type(field).choices is not forms.ModelChoiceField.choices
    ):
        return list(field.choices)
    queryset = field.queryset
    query = queryset.query
    # What the rows depend on, without compiling the SQL (that cost as much as the query):
    # the conditions, the order, the slice and DISTINCT.
    key = (
        queryset.model,
        str(query.where),
        query.order_by,
        query.distinct,
        query.low_mark,
        query.high_mark,
    )
    if cache is None:
        rows = list(queryset)
    elif key in cache:
        rows = cache[key]
    else:
        rows = cache[key] = list(queryset)
    choices = [] if field.empty_label is None else [("", field.empty_label)]
    choices.extend((field.prepare_value(obj), field.label_from_instance(obj)) for obj in rows)
    return choices


def _select(widget: forms.Select, name: str, value, attrs: dict, choices) -> str:
    """`select.html` + `select_option.html` (flat choices; only the first match selected)."""
    selected_values = set(widget.format_value(value))
    options, has_selected = [], False
    for option_value, label in choices:
        if option_value is None:
            option_value = ""
        selected = not has_selected and str(option_value) in selected_values
        has_selected = has_selected or selected
        # A plain select's options inherit no attributes (`option_inherits_attrs`).
        option_attrs = widget.checked_attribute if selected else {}
        options.append(
            f'\n  <option value="{conditional_escape(str(option_value))}"'
            f"{_attrs(option_attrs)}>{conditional_escape(label)}</option>"
        )
    return f'<select name="{conditional_escape(name)}"{_attrs(attrs)}>{"".join(options)}\n</select>'


def widget_html(field: forms.BoundField, cache: dict | None = None) -> str | None:
    """The widget's HTML as `{{ field }}` renders it, or None when Django must render it."""
    widget = field.field.widget
    if field.field.show_hidden_initial or field.field.localize:
        return None
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    name, value = field.html_name, field.value()
    kind = type(widget)
    if kind is forms.Select:
        choices = _choices(field.field, cache)
        if any(isinstance(label, list | tuple) for _value, label in choices):
            return None  # option groups: Django's template
        return _select(widget, name, value, widget.build_attrs(widget.attrs, attrs), choices)
    if kind is forms.Textarea:
        context = widget.get_context(name, value, attrs)["widget"]
        text = conditional_escape(context["value"]) if context["value"] else ""
        attrs_html = _attrs(context["attrs"])
        return f'<textarea name="{conditional_escape(name)}"{attrs_html}>\n{text}</textarea>'
    if kind in _INPUTS or isinstance(widget, forms.ClearableFileInput | forms.FileInput):
        context = widget.get_context(name, value, attrs)["widget"]
        if context.get("is_initial"):
            return None  # a file already there: the clear checkbox, Django's template
        html = (
            f'<input type="{conditional_escape(context["type"])}" name="{conditional_escape(name)}"'
        )
        if context.get("value") is not None and not isinstance(widget, forms.FileInput):
            html += f' value="{conditional_escape(str(context["value"]))}"'
        return html + _attrs(context["attrs"]) + ">"
    return None


def field_html(
    field: forms.BoundField, wrapper_class: str = "", cache: dict | None = None
) -> SafeString:
    """`_field.html` for one bound field: label, widget, help text and errors."""
    widget_type = field.widget_type
    widget = None if field.is_hidden or widget_type == "radioselect" else widget_html(field, cache)
    if widget is None:
        return render_to_string("_field.html", {"field": field, "wrapper_class": wrapper_class})
    label = conditional_escape(field.label)
    if widget_type == "checkbox":
        head = format_html(
            '<div class="form-check">{} <label class="form-check-label" for="{}">{}</label></div>',
            mark_safe(widget),  # noqa: S308  # nosec B308 B703 - built escaped above
            field.id_for_label,
            label,
        )
    else:
        required = (
            mark_safe(' <span class="text-danger" aria-hidden="true">*</span>')  # nosec B308 B703
            if field.field.required
            else ""
        )
        head = format_html(
            '<label class="form-label" for="{}">{}{}</label>\n  {}',
            field.id_for_label,
            label,
            required,
            mark_safe(widget),  # noqa: S308  # nosec B308 B703 - built escaped above
        )
    help_text = (
        format_html(
            '<div class="form-text" id="{}_helptext">{}</div>', field.auto_id, field.help_text
        )
        if field.help_text
        else ""
    )
    errors = "".join(
        format_html('<div class="invalid-feedback d-block">{}</div>', error)
        for error in field.errors
    )
    return format_html(
        '<div class="mb-3 {}">\n  {}\n  {}\n  {}\n</div>',
        wrapper_class,
        head,
        help_text,
        mark_safe(errors),  # noqa: S308  # nosec B308 B703 - each part went through format_html
    )
