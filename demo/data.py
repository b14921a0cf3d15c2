"""The demo organisation, people, catalogue and ticket scenarios, as plain data.

Everything is keyed by a stable code or username, so `seed_demo` can create or update it and a
second run changes nothing. Names carry English and Chinese labels; descriptions are written
the way requesters and agents really write them, in either language.
"""

from __future__ import annotations

from typing import NamedTuple

# One password for every demo account, printed by `manage.py demo_logins` and in the README.
# The demo is for a laptop; production never runs seed_demo.
DEMO_PASSWORD = "demo1234"  # noqa: S105

# code, English, Chinese, kind, parent code (None for the root)
UNITS = [
    ("huaxin-group", "Huaxin Group", "华信集团", "group", None),
    ("huaxin-securities", "Huaxin Securities", "华信证券", "company", "huaxin-group"),
    ("huaxin-asset", "Huaxin Asset Management", "华信资管", "company", "huaxin-group"),
    ("group-finance", "Group Finance Department", "集团财务部", "department", "huaxin-group"),
]
REQUESTER_UNITS = ["huaxin-securities", "huaxin-asset", "group-finance"]

# code, English, Chinese, tier, escalates to, on duty, assignment strategy, team e-mail
TEAMS = [
    ("back-core", "Core systems", "核心系统组", "back", None, False, "least_loaded", "core"),
    (
        "back-infra",
        "Infrastructure and operations",
        "基础设施运维组",
        "back",
        None,
        False,
        "round_robin",
        "infra",
    ),
    ("back-apps", "Applications R&D", "应用研发组", "back", None, False, "skill", "apps"),
    (
        "middle-business",
        "Business experts",
        "业务专家组",
        "middle",
        "back-apps",
        False,
        "least_loaded",
        "business-experts",
    ),
    (
        "middle-tech",
        "Technical experts",
        "技术专家组",
        "middle",
        "back-core",
        True,
        # The experts pick escalations from their queue themselves, so the demo shows a team
        # queue with waiting tickets (and the "unassigned too long" reminder to its lead).
        "manual",
        "tech-experts",
    ),
    (
        "front-desk",
        "Service desk front office",
        "服务台前台",
        "front",
        "middle-tech",
        False,
        "round_robin",
        "servicedesk",
    ),
]

# username, display name, role, team code (or None), skills, is team lead
STAFF = [
    ("tier1", "Liu Yang 刘洋", "front_tier1", "front-desk", ["account", "consultation"], False),
    ("chen.jing", "Chen Jing 陈静", "front_tier1", "front-desk", ["account", "email"], False),
    ("zhao.lei", "Zhao Lei 赵磊", "front_tier1", "front-desk", ["consultation", "oa"], False),
    ("tier2", "Sun Li 孙丽", "front_tier2", "front-desk", ["terminal", "printer", "vpn"], True),
    ("zhou.qiang", "Zhou Qiang 周强", "front_tier2", "front-desk", ["terminal", "data"], False),
    ("expert", "Wang Fang 王芳", "middle_expert", "middle-business", ["erp", "hr", "oa"], True),
    ("huang.wei", "Huang Wei 黄伟", "middle_expert", "middle-business", ["trading"], False),
    ("lin.tao", "Lin Tao 林涛", "middle_expert", "middle-tech", ["network", "database"], True),
    ("he.min", "He Min 何敏", "middle_expert", "middle-tech", ["trading", "middleware"], False),
    ("engineer", "Li Ming 李明", "back_engineer", "back-core", ["trading", "clearing"], True),
    ("gao.xiang", "Gao Xiang 高翔", "back_engineer", "back-core", ["trading"], False),
    ("xu.bin", "Xu Bin 徐斌", "back_engineer", "back-infra", ["network", "vpn"], True),
    ("ma.chao", "Ma Chao 马超", "back_engineer", "back-infra", ["database", "email"], False),
    ("guo.feng", "Guo Feng 郭峰", "back_engineer", "back-apps", ["erp", "oa"], True),
    ("luo.na", "Luo Na 罗娜", "back_engineer", "back-apps", ["hr", "oa"], False),
    ("qa", "Yang Xue 杨雪", "qa_inspector", None, [], False),
    ("manager", "Wu Gang 吴刚", "manager", None, [], False),
    ("admin", "Desk administrator 系统管理员", "administrator", None, [], False),
]

# username, display name (20 requesters, spread over the units in turn)
REQUESTERS = [
    ("requester", "Zhang Wei 张伟"),
    ("li.na", "Li Na 李娜"),
    ("wang.lei", "Wang Lei 王磊"),
    ("liu.min", "Liu Min 刘敏"),
    ("chen.hao", "Chen Hao 陈浩"),
    ("yang.jie", "Yang Jie 杨杰"),
    ("zhao.yan", "Zhao Yan 赵燕"),
    ("huang.xin", "Huang Xin 黄鑫"),
    ("zhou.ting", "Zhou Ting 周婷"),
    ("wu.jun", "Wu Jun 吴军"),
    ("xu.hui", "Xu Hui 徐慧"),
    ("sun.peng", "Sun Peng 孙鹏"),
    ("ma.li", "Ma Li 马丽"),
    ("zhu.kai", "Zhu Kai 朱凯"),
    ("hu.jing", "Hu Jing 胡静"),
    ("guo.yong", "Guo Yong 郭勇"),
    ("he.xue", "He Xue 何雪"),
    ("gao.fei", "Gao Fei 高飞"),
    ("lin.yu", "Lin Yu 林雨"),
    ("luo.bo", "Luo Bo 罗波"),
]

# One login per role, as `demo_logins` prints them (role, username, where they land).
ROLE_LOGINS = [
    ("requester", "requester", "portal"),
    ("front_tier1", "tier1", "workspace"),
    ("front_tier2", "tier2", "workspace"),
    ("middle_expert", "expert", "workspace"),
    ("back_engineer", "engineer", "workspace"),
    ("qa_inspector", "qa", "workspace"),
    ("manager", "manager", "workspace"),
    ("administrator", "admin", "workspace + /admin/"),
]

# code, English, Chinese, owning team, core, description, modules [(code, English, Chinese)]
SYSTEMS = [
    (
        "trading",
        "Centralised trading system",
        "集中交易系统",
        "back-core",
        True,
        "Order entry, matching and market data for the brokerage business.",
        [
            ("order-entry", "Order entry", "委托下单"),
            ("matching", "Matching", "撮合"),
            ("market-data", "Market data", "行情"),
        ],
    ),
    (
        "clearing",
        "Clearing and settlement",
        "清算结算系统",
        "back-core",
        True,
        "End-of-day clearing, settlement and reconciliation with the exchanges.",
        [
            ("settlement", "End-of-day settlement", "日终清算"),
            ("reconciliation", "Reconciliation", "对账"),
        ],
    ),
    (
        "email",
        "E-mail",
        "电子邮件系统",
        "back-infra",
        False,
        "Corporate mailboxes and calendars.",
        [("mailbox", "Mailbox", "邮箱"), ("calendar", "Calendar", "日历")],
    ),
    (
        "vpn",
        "VPN and network",
        "远程接入与网络",
        "back-infra",
        False,
        "Remote access, office Wi-Fi and the wired network.",
        [
            ("vpn-access", "VPN access", "VPN接入"),
            ("wifi", "Wi-Fi", "无线网络"),
            ("lan", "Wired network", "有线网络"),
        ],
    ),
    (
        "dbplatform",
        "Database platform",
        "数据库平台",
        "back-infra",
        False,
        "Shared PostgreSQL and Oracle clusters and their backups.",
        [
            ("postgresql", "PostgreSQL", "PostgreSQL"),
            ("oracle", "Oracle", "Oracle"),
            ("backup", "Backup", "备份"),
        ],
    ),
    (
        "oa",
        "Office automation (OA)",
        "协同办公系统",
        "back-apps",
        False,
        "Approval workflows, official documents and meeting rooms.",
        [
            ("workflow", "Approval workflow", "流程审批"),
            ("documents", "Documents", "公文"),
            ("meetings", "Meeting rooms", "会议室"),
        ],
    ),
    (
        "erp",
        "ERP",
        "企业资源计划系统",
        "back-apps",
        False,
        "Finance, procurement and fixed assets.",
        [
            ("finance", "Finance", "财务"),
            ("procurement", "Procurement", "采购"),
            ("assets", "Fixed assets", "固定资产"),
        ],
    ),
    (
        "hr",
        "HR system",
        "人力资源系统",
        "back-apps",
        False,
        "Payroll, attendance and recruiting.",
        [
            ("payroll", "Payroll", "薪酬"),
            ("attendance", "Attendance", "考勤"),
            ("recruiting", "Recruiting", "招聘"),
        ],
    ),
]


class Scenario(NamedTuple):
    """A kind of request people really send, in both languages."""

    request_type: str
    category: str | None
    system: str | None
    module: str | None
    impact: int
    urgency: int
    english: tuple[str, str]  # title, description
    chinese: tuple[str, str]


# Ticket scenarios: request type, category, system, module, impact, urgency,
# (English title, English description), (Chinese title, Chinese description).
_SCENARIO_ROWS = [
    (
        "fault",
        "performance",
        "trading",
        "order-entry",
        1,
        1,
        (
            "Orders are not going through",
            "Since the open, orders from the branch stay in "
            "'submitting'. Customers are calling; please check the trading system urgently.",
        ),
        (
            "交易系统委托无法提交",
            "开盘后营业部的委托一直停留在“提交中”，客户电话不断，请尽快排查交易系统。",
        ),
    ),
    (
        "fault",
        "application-function",
        "trading",
        "market-data",
        2,
        1,
        (
            "Market data frozen on the trading terminal",
            "Quotes stopped refreshing at 10:05 on "
            "all terminals of our floor; the index still moves on the public website.",
        ),
        ("交易终端行情不刷新", "我们楼层所有终端10:05起行情停止刷新，外网指数仍在变化。"),
    ),
    (
        "fault",
        "database",
        "clearing",
        "settlement",
        2,
        2,
        (
            "End-of-day settlement job failed",
            "The overnight settlement batch stopped at step 7 "
            "with a database timeout. Operations needs it finished before the open.",
        ),
        ("日终清算批处理失败", "夜间清算批处理在第7步因数据库超时中断，需在开盘前完成。"),
    ),
    (
        "defect",
        "application-function",
        "clearing",
        "reconciliation",
        3,
        2,
        (
            "Reconciliation report shows wrong totals",
            "The daily reconciliation report double counts "
            "cancelled trades, so the totals differ from the exchange file.",
        ),
        ("对账报表合计错误", "日终对账报表重复统计了已撤销的成交，合计与交易所文件不一致。"),
    ),
    (
        "fault",
        "network-vpn",
        "vpn",
        "vpn-access",
        3,
        2,
        (
            "Cannot connect to the VPN from home",
            "The VPN client says 'authentication failed' although my password works on the portal.",
        ),
        ("在家无法连接VPN", "VPN客户端提示“认证失败”，但同一密码可以登录门户。"),
    ),
    (
        "fault",
        "network-wifi",
        "vpn",
        "wifi",
        3,
        3,
        (
            "Wi-Fi keeps dropping in meeting room 5",
            "Laptops lose the office Wi-Fi every few minutes in meeting room 5 on the 12th floor.",
        ),
        ("12楼5号会议室无线网络频繁断开", "12楼5号会议室笔记本每隔几分钟就掉线。"),
    ),
    (
        "fault",
        "network-lan",
        "vpn",
        "lan",
        2,
        2,
        (
            "No network on the 8th floor",
            "Every wired port on the east side of the 8th floor has no link since this morning.",
        ),
        ("8楼东侧有线网络中断", "8楼东侧所有网口今天早上起没有信号。"),
    ),
    (
        "account_permission",
        "permission-account",
        "email",
        "mailbox",
        4,
        3,
        (
            "Mailbox locked after password change",
            "I changed my password yesterday and now Outlook says my account is locked.",
        ),
        ("修改密码后邮箱被锁定", "昨天修改密码后，Outlook提示账号被锁定。"),
    ),
    (
        "defect",
        "application-plugin",
        "email",
        "calendar",
        4,
        4,
        (
            "Calendar invitations arrive without the Teams link",
            "Invitations sent from the web calendar lose the meeting link added by the plug-in.",
        ),
        ("日历邀请缺少会议链接", "从网页版日历发出的会议邀请丢失了插件添加的会议链接。"),
    ),
    (
        "consultation",
        "application",
        "email",
        "mailbox",
        4,
        4,
        (
            "How do I set up an out-of-office reply?",
            "I am on leave next week and would like an automatic reply in Chinese and English.",
        ),
        ("如何设置邮件自动回复？", "下周休假，希望设置中英文自动回复。"),
    ),
    (
        "account_permission",
        "permission-role",
        "oa",
        "workflow",
        4,
        3,
        (
            "Need approval rights in OA for my new role",
            "I moved to the purchasing team and must approve purchase requests in the OA workflow.",
        ),
        ("新岗位需要OA审批权限", "我已调到采购组，需要在OA流程中审批采购申请。"),
    ),
    (
        "defect",
        "application-function",
        "oa",
        "documents",
        3,
        3,
        (
            "OA document preview shows garbled characters",
            "Official documents with Chinese file names show garbled characters in the preview.",
        ),
        ("OA公文预览乱码", "中文文件名的公文在预览时显示乱码。"),
    ),
    (
        "consultation",
        "application",
        "oa",
        "meetings",
        4,
        4,
        (
            "How to book a meeting room for a recurring meeting",
            "I need the same room every Tuesday for the next three months.",
        ),
        ("如何预订周期性会议室", "未来三个月每周二需要同一间会议室。"),
    ),
    (
        "change_request",
        "application-function",
        "oa",
        "workflow",
        3,
        4,
        (
            "Add a cost-centre field to the travel approval form",
            "Finance asks that every travel request names the cost centre it is charged to.",
        ),
        ("差旅审批单增加成本中心字段", "财务要求每张差旅申请注明成本中心。"),
    ),
    (
        "data_processing",
        "data-fix",
        "erp",
        "finance",
        3,
        3,
        (
            "Correct a wrong voucher date in ERP",
            "Voucher 2024-0815 was booked on the wrong date; "
            "please change it to the last day of the month.",
        ),
        ("ERP凭证日期错误需修改", "凭证2024-0815记账日期错误，请改为月末最后一天。"),
    ),
    (
        "data_processing",
        "data-report",
        "erp",
        "procurement",
        4,
        4,
        (
            "Monthly purchasing statistics by supplier",
            "Please export purchasing amounts by supplier for last quarter.",
        ),
        ("按供应商统计上季度采购金额", "请导出上季度按供应商汇总的采购金额。"),
    ),
    (
        "defect",
        "performance",
        "erp",
        "finance",
        2,
        2,
        (
            "ERP month-end closing is extremely slow",
            "The closing run has taken more than four "
            "hours today; last month it took twenty minutes.",
        ),
        ("ERP月结速度极慢", "今天月结已运行四个多小时，上个月只需二十分钟。"),
    ),
    (
        "change_request",
        "application-function",
        "erp",
        "assets",
        4,
        4,
        (
            "New asset category for leased equipment",
            "We need a separate fixed-asset category for leased servers.",
        ),
        ("新增租赁设备资产类别", "需要为租赁服务器单独设立固定资产类别。"),
    ),
    (
        "account_permission",
        "permission-account",
        "hr",
        "attendance",
        4,
        3,
        (
            "Reset my HR system password",
            "I forgot my HR system password and the reset e-mail never arrives.",
        ),
        ("重置人力资源系统密码", "忘记了人力资源系统密码，重置邮件一直收不到。"),
    ),
    (
        "data_processing",
        "data-fix",
        "hr",
        "attendance",
        4,
        3,
        (
            "Attendance record missing for a business trip",
            "My business trip last week shows as absence; please fix the attendance record.",
        ),
        ("出差期间考勤记录缺失", "上周出差被记为缺勤，请修正考勤记录。"),
    ),
    (
        "defect",
        "application-function",
        "hr",
        "payroll",
        2,
        2,
        (
            "Payslips show last month's tax",
            "This month's payslips in the HR system still use the old tax table.",
        ),
        ("工资条个税仍按上月计算", "本月人力资源系统工资条仍使用旧的个税税率表。"),
    ),
    (
        "complaint",
        None,
        "hr",
        "recruiting",
        4,
        3,
        (
            "No answer to my ticket for a week",
            "I reported the recruiting portal problem last week and nobody has contacted me since.",
        ),
        ("工单一周无人回复", "上周反映的招聘门户问题，至今无人联系我。"),
    ),
    (
        "fault",
        "database",
        "dbplatform",
        "postgresql",
        2,
        1,
        (
            "Database connections exhausted",
            "Applications report 'too many connections' on the shared PostgreSQL cluster.",
        ),
        ("数据库连接数耗尽", "多个应用报共享PostgreSQL集群“连接数过多”。"),
    ),
    (
        "data_processing",
        "data-fix",
        "dbplatform",
        "backup",
        3,
        3,
        (
            "Restore a table from last night's backup",
            "A script deleted rows from the customer "
            "table in the test database; please restore it from last night.",
        ),
        ("从昨晚备份恢复一张表", "脚本误删了测试库客户表数据，请从昨晚备份恢复。"),
    ),
    (
        "change_request",
        "middleware",
        "dbplatform",
        "oracle",
        3,
        4,
        (
            "Raise the Oracle session limit for the report server",
            "Month-end reports need more concurrent sessions.",
        ),
        ("提高报表服务器的Oracle会话上限", "月末报表需要更多并发会话。"),
    ),
    (
        "consultation",
        "hardware",
        None,
        None,
        4,
        4,
        (
            "How do I connect to the new printer?",
            "The printer on the 6th floor was replaced and my laptop cannot find it.",
        ),
        ("如何连接新打印机？", "6楼打印机更换后，笔记本找不到它。"),
    ),
    (
        "account_permission",
        "hardware-pc",
        None,
        None,
        4,
        3,
        (
            "Laptop asks for BitLocker recovery key",
            "After a BIOS update my laptop asks for the BitLocker recovery key.",
        ),
        ("笔记本提示输入BitLocker恢复密钥", "BIOS升级后笔记本要求输入BitLocker恢复密钥。"),
    ),
    (
        "consultation",
        "hardware-printer",
        None,
        None,
        4,
        4,
        ("Toner for the colour printer", "The colour printer in room 1203 is out of toner."),
        ("彩色打印机缺墨", "1203室彩色打印机没有墨粉了。"),
    ),
    (
        "complaint",
        None,
        "trading",
        "order-entry",
        3,
        3,
        (
            "Complaint about repeated trading outages",
            "This is the third time this month that "
            "order entry stopped; our customers are unhappy.",
        ),
        ("对交易系统反复中断的投诉", "本月第三次出现委托中断，客户很不满意。"),
    ),
    (
        "consultation",
        None,
        None,
        None,
        4,
        4,
        ("Question about my computer", "Something is wrong with my computer, can someone call me?"),
        ("电脑有点问题", "电脑有点问题，能否来电联系我？"),
    ),
]

SCENARIOS = [Scenario(*row) for row in _SCENARIO_ROWS]

# Target statuses of the demo tickets and how many of each (about 300 in all).
STATUS_MIX = [
    ("new", 24),
    ("queued", 40),
    ("in_progress", 50),
    ("pending", 30),
    ("pending_verification", 24),
    ("resolved", 36),
    ("closed", 72),
    ("cancelled", 24),
]

# channel, weight
CHANNEL_MIX = [
    ("portal", 45),
    ("phone", 18),
    ("email", 15),
    ("im", 10),
    ("api", 5),
    ("chatbot", 4),
    ("alert", 3),
]

LOCATIONS = [
    ("Building A, 3rd floor", "A座3楼"),
    ("Building B, 12th floor", "B座12楼"),
    ("Shenzhen branch", "深圳分公司"),
    ("Shanghai head office", "上海总部"),
    ("Beijing branch", "北京营业部"),
]

RESOLUTIONS = [
    ("Cause found and fixed; tested with the requester.", "已定位原因并修复，已与用户一起验证。"),
    ("Configuration corrected and the service restarted.", "已修正配置并重启服务。"),
    ("Explained the procedure and sent the guide.", "已说明操作步骤并发送操作指引。"),
    (
        "Data corrected as requested; before and after attached.",
        "已按要求修正数据，前后对比已附上。",
    ),
    ("Permission granted after the manager's approval.", "经主管审批后已开通权限。"),
]
