"""Seeding the demo desk's knowledge base: ~40 published articles (Chinese and English,
each pair linked as translations), a few scenarios, and one known problem. Safe to run again:
articles are keyed by external id, so a second run adds nothing.

Called by `demo.services.demo_seed` (see docs/knowledge.md) as
`knowledge.demo_seed.knowledge_demo_seed(owner=people["expert"])`.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from catalog.models import Category, InformationSystem

from .choices import Language
from .demo_data import ARTICLES
from .importing import import_articles
from .models import Article, Problem, Scenario
from .problem_services import ProblemInput, problem_create

SCENARIOS = [
    ("remote-work", "Remote work", "远程办公"),
    ("password-change", "Password change", "密码变更"),
    ("month-end", "Month-end close", "月末结账"),
]
SCENARIO_OF = {
    "vpn-drops": "remote-work",
    "vpn-token": "remote-work",
    "outlook-password": "password-change",
    "account-unlock": "password-change",
    "password-reset": "password-change",
    "erp-report": "month-end",
    "eod-rerun": "month-end",
}


def _rows() -> list[dict[str, str]]:
    rows = []
    for key, system, category, audience, fix_language, zh, en in ARTICLES:
        for language, text in ((Language.ZH_HANS, zh), (Language.EN, en)):
            title, symptom, cause, steps, fix_script, prevention, tags = text
            rows.append(
                {
                    "external_id": f"demo-kb-{key}-{language}",
                    "title": title,
                    "symptom": symptom,
                    "cause": cause,
                    "steps": steps,
                    "fix_script": fix_script,
                    "fix_language": fix_language if fix_script else "",
                    "prevention": prevention,
                    "tags": tags,
                    "scenario": SCENARIO_OF.get(key, ""),
                    "system": system,
                    "category": category,
                    "language": language,
                    "audience": audience,
                }
            )
    return rows


def knowledge_demo_seed(*, owner: User) -> int:
    """Create the demo articles that do not exist yet; returns how many were created."""
    with transaction.atomic():
        for code, name, name_zh in SCENARIOS:
            Scenario.objects.update_or_create(
                code=code, defaults={"name": name, "name_zh": name_zh}
            )
        # A desk without some of the demo systems still gets every article, unclassified.
        systems = set(InformationSystem.objects.values_list("code", flat=True))
        categories = set(Category.objects.values_list("code", flat=True))
        rows = _rows()
        for row in rows:
            row["system"] = row["system"] if row["system"] in systems else ""
            row["category"] = row["category"] if row["category"] in categories else ""
        report = import_articles(rows=rows, actor=owner, publish=True)
        for key, *_rest in ARTICLES:
            Article.objects.filter(
                external_id=f"demo-kb-{key}-{Language.EN}", translation_of__isnull=True
            ).update(
                translation_of=Article.objects.filter(
                    external_id=f"demo-kb-{key}-{Language.ZH_HANS}"
                ).values("pk")[:1]
            )
        if not Problem.objects.filter(title="ERP 月结报表查询缺少索引").exists():
            problem_create(
                actor=owner,
                data=ProblemInput(
                    title="ERP 月结报表查询缺少索引",
                    root_cause="总账明细查询在月结期间未走索引，超过网关 600 秒超时。",
                    workaround="按公司代码分批导出，或以后台作业方式生成。",
                    workaround_article=Article.objects.filter(
                        external_id=f"demo-kb-erp-report-{Language.ZH_HANS}"
                    ).first(),
                ),
            )
    return report.created
