"""The product's default taxonomy (PRODUCT.md §4), loaded by a data migration and editable after."""

REQUEST_TYPES = [
    # code, English, Chinese, entry tier, flow
    ("consultation", "Consultation", "咨询", "front", "consultation"),
    ("defect", "Defect", "缺陷", "middle", "defect"),
    ("fault", "Fault", "故障", "middle", "fault"),
    ("account_permission", "Account and permission", "账号权限", "front", "account"),
    ("data_processing", "Data processing", "数据处理", "front", "data"),
    ("change_request", "Change request", "功能变更", "middle", "change"),
    ("complaint", "Complaint", "服务投诉", "front", "complaint"),
]

# code, English, Chinese, children
CATEGORIES = [
    (
        "network",
        "Network fault",
        "网络故障",
        [
            ("network-vpn", "VPN", "VPN"),
            ("network-wifi", "Wi-Fi", "无线网络"),
            ("network-lan", "Wired network", "有线网络"),
        ],
    ),
    (
        "application",
        "Application error",
        "应用错误",
        [
            ("application-function", "Function error", "功能异常"),
            ("application-plugin", "Plug-in", "插件"),
        ],
    ),
    (
        "permission",
        "Permission",
        "权限",
        [
            ("permission-account", "Account and password", "账号与密码"),
            ("permission-role", "Roles and access", "角色与授权"),
        ],
    ),
    (
        "hardware",
        "Hardware and terminals",
        "硬件与终端",
        [
            ("hardware-pc", "PC and laptop", "电脑"),
            ("hardware-printer", "Printer and peripherals", "打印机与外设"),
        ],
    ),
    ("database", "Database", "数据库", []),
    ("middleware", "Middleware", "中间件", []),
    ("performance", "Performance", "性能", []),
    (
        "data",
        "Data",
        "数据",
        [
            ("data-fix", "Data correction", "数据修改"),
            ("data-report", "Statistics and reports", "统计报表"),
        ],
    ),
]
