"""The demo catalogue: ~15 services in English and Chinese for the demo desk's systems.
`catalogue_seed()` is called by `demo.services.demo_seed`; safe to run again (by code)."""

from __future__ import annotations

from accounts.models import Team
from catalog.models import Category, InformationSystem, RequestType

from .choices import FieldKind as K
from .models import Service, ServiceField, ServiceGroup

GROUPS = [
    ("accounts", "Accounts and access", "账号与权限"),
    ("network", "Network and devices", "网络与终端"),
    ("data", "Data services", "数据服务"),
    ("changes", "Changes and new features", "需求与变更"),
    ("help", "Questions", "咨询"),
]

SYSTEM_FIELD = ("system", "System", "系统", K.SYSTEM, True, "", "", "")
# (code, group, name, name_zh, description, description_zh, request type, category, system,
#  team, ask impact, data service (dataset, owner team, how, how zh) or None, fields)
# fields: (key, name, name_zh, kind, required, choices, show_if, show_if_value)
SERVICES = [
    ("password-reset", "accounts", "Password reset", "密码重置",
     "Forgotten or expired password of a business system.", "业务系统密码遗忘或过期。",
     "account_permission", "permission-account", None, "front-desk", False, None,
     [("account", "Account name", "账号", K.TEXT, True, "", "", ""), SYSTEM_FIELD]),
    ("new-account", "accounts", "New account", "新开账号",
     "An account for a new colleague.", "为新同事开通系统账号。",
     "account_permission", "permission-account", None, "front-desk", False, None,
     [("person", "For whom", "开通对象", K.USER, True, "", "", ""), SYSTEM_FIELD,
      ("start", "Start date", "开始日期", K.DATE, True, "", "", "")]),
    ("vpn-access", "network", "VPN access", "VPN 访问",
     "Remote access to the internal network.", "远程访问内部网络。",
     "account_permission", "network-vpn", "vpn", "front-desk", False, None,
     [("purpose", "Purpose", "用途", K.CHOICE, True,
       "remote|Remote work|远程办公\nvendor|Vendor access|供应商访问", "", ""),
      ("vendor", "Vendor company", "供应商公司", K.TEXT, True, "", "purpose", "vendor"),
      ("until", "Needed until", "使用截止日期", K.DATE, True, "", "", ""),
      ("devices", "Devices", "设备", K.MULTI_CHOICE, False,
       "laptop|Laptop|笔记本电脑\nphone|Phone|手机\ntablet|Tablet|平板", "", ""),
      ("why", "Why", "申请理由", K.LONG_TEXT, True, "", "", "")]),
    ("permission-change", "accounts", "Change of permissions", "权限变更",
     "Add or remove a role in a system.", "增加或取消系统角色。",
     "account_permission", "permission-role", None, "front-desk", False, None,
     [SYSTEM_FIELD, ("role", "Role", "角色", K.TEXT, True, "", "", ""),
      ("action", "Add or remove", "增加或取消", K.CHOICE, True, "add|Add|增加\nremove|Remove|取消",
       "", "")]),
    ("erp-role", "accounts", "ERP role", "ERP 角色申请",
     "A role in the ERP system, approved by your manager.", "ERP 系统角色，需经理审批。",
     "account_permission", "permission-role", "erp", "front-desk", False, None,
     [("role", "Role", "角色", K.TEXT, True, "", "", ""),
      ("manager", "Approving manager", "审批经理", K.USER, True, "", "", "")]),
    ("wifi-access", "network", "Wi-Fi for a guest", "访客无线网络",
     "Wi-Fi access for a visitor.", "为访客开通无线网络。",
     "account_permission", "network-wifi", "vpn", "front-desk", False, None,
     [("guest", "Guest name", "访客姓名", K.TEXT, True, "", "", ""),
      ("day", "Day", "日期", K.DATE, True, "", "", "")]),
    ("printer-problem", "network", "Printer problem", "打印机故障",
     "A printer jams, prints badly or cannot be found.", "打印机卡纸、打印异常或找不到。",
     "fault", "hardware-printer", None, "front-desk", True, None,
     [("where", "Where is the printer", "打印机位置", K.TEXT, True, "", "", ""),
      ("photo", "Photo", "照片", K.FILE, False, "", "", "")]),
    ("laptop-request", "network", "New laptop", "申领笔记本电脑",
     "A laptop for a new colleague or a replacement.", "为新同事申领或更换笔记本电脑。",
     "consultation", "hardware-pc", None, "front-desk", False, None,
     [("person", "For whom", "使用人", K.USER, True, "", "", ""),
      ("kind", "New or replacement", "新领或更换", K.CHOICE, True,
       "new|New|新领\nreplace|Replacement|更换", "", "")]),
    ("data-correction", "data", "Data correction", "数据修改",
     "Correct wrong records in a business system.", "修正业务系统中的错误数据。",
     "data_processing", "data-fix", None, None, True,
     ("Business records of every system", "back-apps",
      "Describe the records and attach the evidence; the owner team checks it.",
      "说明要修改的记录并附上依据，由系统负责团队核对。"),
     [SYSTEM_FIELD, ("records", "Which records, what is wrong", "哪些记录、错在哪里",
                     K.LONG_TEXT, True, "", "", ""),
      ("evidence", "Evidence", "依据", K.FILE, False, "", "", "")]),
    ("data-extract", "data", "Data extract", "数据提取",
     "A one-off extract of data you may see.", "一次性提取你有权查看的数据。",
     "data_processing", "data-report", None, None, False,
     ("Customer master data (CRM)", "back-apps",
      "Say which fields and period; personal data needs your manager's approval.",
      "说明字段和期间；个人数据需经理审批。"),
     [("fields", "Fields and period", "字段与期间", K.LONG_TEXT, True, "", "", ""),
      ("format", "Format", "格式", K.CHOICE, True, "xlsx|Excel|Excel\ncsv|CSV|CSV", "", "")]),
    ("report-request", "data", "Report request", "报表需求",
     "A new or changed statistics report.", "新增或修改统计报表。",
     "data_processing", "data-report", None, None, False,
     ("Trading and clearing statistics", "back-core",
      "Name the report, its columns and how often you need it.",
      "说明报表名称、栏目和频率。"),
     [("report", "Report", "报表", K.TEXT, True, "", "", ""),
      ("frequency", "How often", "频率", K.CHOICE, True,
       "once|Once|一次\nmonthly|Monthly|每月\ndaily|Daily|每日", "", "")]),
    ("db-readonly", "data", "Read-only database access", "数据库只读权限",
     "Read-only access to a database for analysis.", "用于分析的数据库只读访问。",
     "account_permission", "database", "dbplatform", None, False,
     ("Database platform (read-only replicas)", "back-infra",
      "Request per schema; access expires after 90 days.", "按库申请，90 天后到期。"),
     [("schema", "Database / schema", "数据库/模式", K.TEXT, True, "", "", ""),
      ("until", "Needed until", "使用截止日期", K.DATE, True, "", "", "")]),
    ("hr-data-query", "data", "HR data query", "人事数据查询",
     "Headcount and organisation figures.", "人员与组织数据查询。",
     "data_processing", "data-report", "hr", None, False,
     ("HR master data", "back-apps", "Managers only; say which unit and period.",
      "仅限经理；说明单位和期间。"),
     [("unit", "Unit and period", "单位与期间", K.TEXT, True, "", "", "")]),
    ("new-feature", "changes", "New feature request", "新功能需求",
     "A new requirement or a change of a function.", "新需求或功能变更。",
     "change_request", None, None, None, False, None,
     [SYSTEM_FIELD, ("need", "What you need and why", "需求与理由", K.LONG_TEXT, True, "", "", ""),
      ("deadline", "Wanted by", "期望完成日期", K.DATE, False, "", "", "")]),
    ("general-question", "help", "Ask a question", "咨询问题",
     "How do I …? Ask the front office.", "怎么操作……？向前台咨询。",
     "consultation", None, None, "front-desk", False, None,
     [("question", "Your question", "你的问题", K.LONG_TEXT, True, "", "", "")]),
]  # fmt: skip


def catalogue_seed() -> int:
    """Create or update the demo services (by code); return how many there are."""
    groups = {}
    for position, (code, name, name_zh) in enumerate(GROUPS):
        groups[code], _created = ServiceGroup.objects.update_or_create(
            code=code, defaults={"name": name, "name_zh": name_zh, "position": position}
        )
    for position, row in enumerate(SERVICES):
        (code, group, name, name_zh, text, text_zh, type_code, category_code, system_code,
         team_code, ask_impact, data, fields) = row  # fmt: skip
        dataset, owner, how, how_zh = data or ("", None, "", "")
        service, _created = Service.objects.update_or_create(
            code=code,
            defaults={
                "group": groups[group],
                "name": name,
                "name_zh": name_zh,
                "description": text,
                "description_zh": text_zh,
                "keywords": f"{name} {name_zh}",
                "position": position,
                "request_type": RequestType.objects.get(code=type_code),
                "category": Category.objects.filter(code=category_code).first()
                if category_code
                else None,
                "system": InformationSystem.objects.filter(code=system_code).first()
                if system_code
                else None,
                "team": Team.objects.filter(code=team_code).first() if team_code else None,
                "ask_impact": ask_impact,
                "is_data_service": data is not None,
                "dataset": dataset,
                "owner_team": Team.objects.filter(code=owner).first() if owner else None,
                "how_to_request": how,
                "how_to_request_zh": how_zh,
            },
        )
        for field_position, (
            key,
            label,
            label_zh,
            kind,
            required,
            choices,
            show_if,
            value,
        ) in enumerate(fields):
            ServiceField.objects.update_or_create(
                service=service,
                key=key,
                defaults={
                    "name": label,
                    "name_zh": label_zh,
                    "kind": kind,
                    "required": required,
                    "choices": choices,
                    "show_if": show_if,
                    "show_if_value": value,
                    "position": field_position,
                },
            )
    return Service.objects.filter(code__in=[row[0] for row in SERVICES]).count()
