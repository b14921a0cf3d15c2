"""Defaults an administrator can change: survey reasons, the default return-visit rule (10 % of
every team's closed tickets plus all complaints, P1 and low scores) and scorecard v1 (PRODUCT.md
§8, issue #15). Idempotent."""

from django.db import migrations

REASONS = [
    ("slow", "It took too long", "处理太慢"),
    ("not_solved", "The problem is not really solved", "问题没有真正解决"),
    ("communication", "I was not kept informed", "沟通不及时"),
    ("attitude", "Attitude of the staff", "服务态度"),
    ("good", "Fast and friendly", "快速友好"),
]
ITEMS = [
    ("Correct classification", "分类正确", 15),
    ("Timely first response", "首次响应及时", 20),
    ("Progress updates", "进度更新", 15),
    ("Solution quality", "解决质量", 30),
    ("Knowledge linked", "关联知识", 5),
    ("Communication", "沟通", 15),
]


def defaults(apps, schema_editor):
    reason = apps.get_model("feedback", "SurveyReason")
    for position, (code, name, name_zh) in enumerate(REASONS):
        reason.objects.get_or_create(
            code=code, defaults={"name": name, "name_zh": name_zh, "position": position}
        )
    rule = apps.get_model("feedback", "ReturnVisitRule")
    if not rule.objects.filter(team__isnull=True).exists():
        rule.objects.create(team=None, percentage=10)
    card_model = apps.get_model("feedback", "Scorecard")
    item_model = apps.get_model("feedback", "ScorecardItem")
    card, created = card_model.objects.get_or_create(name="Ticket handling", version=1)
    if created or not item_model.objects.filter(scorecard=card).exists():
        for position, (name, name_zh, weight) in enumerate(ITEMS):
            item_model.objects.create(
                scorecard=card, name=name, name_zh=name_zh, weight=weight, position=position
            )


class Migration(migrations.Migration):
    dependencies = [("feedback", "0002_move_ratings")]
    operations = [migrations.RunPython(defaults, migrations.RunPython.noop)]
