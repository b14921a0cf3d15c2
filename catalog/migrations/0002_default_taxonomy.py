"""Load the product's default request types and category tree (editable in the admin)."""

from django.db import migrations


def load_defaults(apps, schema_editor):
    from catalog.defaults import CATEGORIES, REQUEST_TYPES

    request_type = apps.get_model("catalog", "RequestType")
    for order, (code, name, name_zh, tier, flow) in enumerate(REQUEST_TYPES):
        request_type.objects.update_or_create(
            code=code,
            defaults={"name": name, "name_zh": name_zh, "entry_tier": tier, "flow": flow,
                      "sort_order": order},
        )
    # Historical models do not carry treebeard's methods: build the materialised paths here
    # (steplen 4, base 36, as treebeard does) for this small fixed tree.
    category = apps.get_model("catalog", "Category")
    if category.objects.exists():
        return

    def path_of(prefix: str, index: int) -> str:
        digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        number, text = index, ""
        while True:
            number, rest = divmod(number, 36)
            text = digits[rest] + text
            if number == 0:
                break
        return prefix + text.rjust(4, "0")

    for root_index, (code, name, name_zh, children) in enumerate(sorted(CATEGORIES), start=1):
        root_path = path_of("", root_index)
        category.objects.create(code=code, name=name, name_zh=name_zh, path=root_path, depth=1,
                                numchild=len(children))
        for child_index, (child_code, child_name, child_zh) in enumerate(sorted(children), 1):
            category.objects.create(code=child_code, name=child_name, name_zh=child_zh,
                                    path=path_of(root_path, child_index), depth=2, numchild=0)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
