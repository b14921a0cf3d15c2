"""The ticket text classifier on its own: no database, no Django settings needed.

The Chinese and English examples below were written for these tests: four request kinds
(fault, password reset, data fix, complaint), a training set and held-out sentences phrased
differently from any training sentence.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from routing import classifier as clf
from routing.classifier import (
    MAX_INPUT_CHARS,
    Candidate,
    CharNgramVectorizer,
    Prediction,
    TextClassifier,
    WordNgramVectorizer,
    normalize_text,
    plain_text,
    word_tokens,
)
from routing.classifier.candidates import fit_linear, linear_scores, new_block

FAULT, PASSWORD, DATA, COMPLAINT = "fault", "password_reset", "data_fix", "complaint"

ZH_TRAIN: dict[str, list[str]] = {
    FAULT: [
        "服务器宕机了，所有用户都无法登录系统",
        "交易系统突然无法访问，页面一直报502错误",
        "办公室网络断了，电脑连不上内网",
        "邮件服务器故障，发不出邮件也收不到邮件",
        "打印机坏了，打印时一直卡纸",
        "电脑开不了机，按电源键没有任何反应",
        "数据库连接超时，业务系统全部报错",
        "VPN连不上，提示连接失败",
        "系统崩溃了，点击任何按钮都没有反应",
        "生产环境应用服务挂了，请尽快恢复",
        "会议室投影仪无法显示画面",
        "网站打不开，浏览器显示无法连接服务器",
        "硬盘故障，电脑一直蓝屏重启",
        "无线网络信号很差，经常断线",
        "核心交易系统中断，客户无法下单",
        "服务器CPU占用100%，系统响应极慢",
        "电话系统故障，座机打不出去",
        "OA系统报错无法打开，提示服务不可用",
        "机房交换机故障导致整层楼断网",
        "存储空间满了，应用写入失败报错",
    ],
    PASSWORD: [
        "忘记密码了，请帮我重置一下",
        "我的账号被锁定了，需要解锁",
        "OA系统密码过期，无法登录，请重置密码",
        "邮箱密码忘记了，麻烦重置",
        "输错密码次数太多，账号被锁了",
        "请帮忙重置VPN账号的密码",
        "新员工首次登录需要初始密码",
        "域账号密码到期了，怎么修改密码",
        "登录时提示密码错误，但我确定没输错，请重置",
        "ERP账号锁定，请协助解锁并重置密码",
        "手机号换了，收不到验证码，无法找回密码",
        "请把我的系统登录密码恢复为初始密码",
        "密码重置邮件一直收不到",
        "账户被冻结，需要重新激活并设置新密码",
        "我的Windows开机密码忘了",
        "财务系统密码连续输错被锁定",
        "请重置我的邮箱登录密码，谢谢",
        "忘记了CRM系统的登录密码",
        "修改密码后新密码不生效，还是登录不了",
        "申请重置堡垒机账号密码",
    ],
    DATA: [
        "合同金额录入错误，请帮忙修改为50000元",
        "请删除系统中重复录入的两条客户记录",
        "员工入职日期填错了，需要更正",
        "订单状态有误，请改为已完成",
        "请帮忙批量修改这批物料的单价",
        "报表中的部门名称错了，需要修改数据",
        "误删了一条报销单数据，请帮忙恢复",
        "请补录上个月漏掉的考勤数据",
        "客户地址信息有误，请后台更正",
        "请将这张发票的税率从13%改为9%",
        "审批单数据有误，请在数据库里修改",
        "请导出上季度的销售数据统计",
        "请把张三的工号数据更正为A1024",
        "库存数量与实际不符，请调整系统数据",
        "需要批量导入一批供应商数据",
        "付款记录重复了，请删除多余的一条",
        "请修改项目的结束日期为12月31日",
        "系统里的手机号码写错了，请帮忙更新",
        "请补录遗漏的采购订单数据",
        "请更正报表里统计错误的数据",
    ],
    COMPLAINT: [
        "投诉：IT支持响应太慢，等了三天都没人处理",
        "对服务态度非常不满意，工程师很不耐烦",
        "问题反复出现，每次都说修好了，我要投诉",
        "工单提交一周了没有任何回复，太差了",
        "维修人员迟到两个小时，严重影响工作",
        "我要投诉服务台，电话一直没人接",
        "处理结果很不满意，问题根本没有解决",
        "服务质量太差了，希望领导重视",
        "多次反映同一个问题都没人管，非常失望",
        "工程师态度恶劣，强烈投诉",
        "对这次处理的效率表示强烈不满",
        "承诺今天解决却没有兑现，我很生气",
        "客服推诿责任，要求给个说法",
        "投诉处理太慢，耽误了我们的业务",
        "服务台总是让我等待，体验非常差",
        "对IT部门的服务极其不满",
        "每次找运维都要催好几遍，太不专业了",
        "工单被随便关闭了，问题还在，投诉",
        "希望改进服务态度，这次体验很糟糕",
        "已经第三次投诉了，还是没人跟进",
    ],
}

ZH_HELDOUT: list[tuple[str, str]] = [
    ("财务系统打不开了，一直提示连接服务器失败", FAULT),
    ("电脑蓝屏了，重启后还是无法开机", FAULT),
    ("整个部门的网络都断了，无法访问内网", FAULT),
    ("邮件系统报错，发不出去邮件", FAULT),
    ("我忘记了邮箱的密码，能帮我重置吗", PASSWORD),
    ("账号因为多次输错密码被锁定，请解锁", PASSWORD),
    ("报销系统的登录密码过期了，请帮忙重置", PASSWORD),
    ("域账号被锁了，无法登录电脑", PASSWORD),
    ("供应商名称录入有误，请帮忙修改数据", DATA),
    ("请删除这两条重复的订单记录", DATA),
    ("员工的部门信息填错了，请更正", DATA),
    ("请帮忙补录本周漏掉的销售数据", DATA),
    ("我要投诉，工单提交好几天了都没人处理", COMPLAINT),
    ("工程师的服务态度太差了，非常不满意", COMPLAINT),
    ("问题一直没有解决，对你们的服务很失望", COMPLAINT),
    ("服务台电话总是没人接，体验太差", COMPLAINT),
]

EN_TRAIN: dict[str, list[str]] = {
    FAULT: [
        "The mail server is down and nobody can send email",
        "Trading system is unavailable, users get error 502",
        "My laptop does not boot, black screen after power on",
        "Network outage on the third floor, no internet access",
        "The printer is broken and keeps jamming",
        "Database connection timeout, the application crashes",
        "VPN cannot connect, connection failed error",
        "Website is down, server not responding",
        "The ERP system crashed and shows an error page",
        "Wi-Fi keeps disconnecting in the meeting room",
        "Production server outage, please restore service urgently",
        "Hard disk failure, computer keeps rebooting with a blue screen",
    ],
    PASSWORD: [
        "I forgot my password, please reset it",
        "My account is locked after too many attempts",
        "Password expired, cannot log in to the OA system",
        "Please reset the password of my VPN account",
        "Need to unlock my domain account",
        "Locked out of my email account, please unlock",
        "Reset my ERP login password please",
        "I cannot remember my Windows password",
        "Password reset email never arrives",
        "Account disabled, please reactivate and set a new password",
        "New employee needs an initial password for login",
        "Login says wrong password, please reset",
    ],
    DATA: [
        "Please correct the contract amount entered wrongly",
        "Delete the duplicate customer records in the CRM",
        "Employee start date is wrong, please update the record",
        "Change the order status to completed in the database",
        "Please fix the unit price of these items in the system",
        "Restore the expense report data that was deleted by mistake",
        "Backfill the missing attendance data for last month",
        "Customer address data is wrong, please correct it",
        "Update the tax rate on this invoice record",
        "Import the supplier data into the system",
        "Remove the duplicate payment record",
        "Correct the wrong figures in the sales report data",
    ],
    COMPLAINT: [
        "I want to complain, support is too slow and nobody responded",
        "Very unhappy with the rude attitude of the engineer",
        "Ticket open for a week without any reply, terrible service",
        "The technician was two hours late, unacceptable",
        "Nobody answers the service desk phone, I am complaining",
        "The problem keeps coming back, very disappointed with the service",
        "Poor service quality, management should look into this",
        "Complaint: my ticket was closed but the issue is not solved",
        "Extremely dissatisfied with how IT handled my request",
        "I had to chase support many times, this is unprofessional",
        "Formal complaint about the helpdesk response time",
        "The engineer promised a fix today and did not deliver, I am angry",
    ],
}

EN_HELDOUT: list[tuple[str, str]] = [
    ("The email server is down again, cannot send messages", FAULT),
    ("Server not responding, the application shows an error", FAULT),
    ("Computer shows a blue screen and does not boot", FAULT),
    ("Forgot my email password, can you reset it", PASSWORD),
    ("My account got locked, please unlock it", PASSWORD),
    ("VPN password expired, need a reset", PASSWORD),
    ("Supplier name was entered wrongly, please correct the record", DATA),
    ("Please delete the duplicate order records", DATA),
    ("Backfill the missing sales data for this week", DATA),
    ("I want to file a complaint, nobody replied to my ticket for days", COMPLAINT),
    ("Very dissatisfied with the service desk, terrible attitude", COMPLAINT),
    ("Unacceptable service from support, I am very disappointed", COMPLAINT),
]

MIXED_HELDOUT: list[tuple[str, str]] = [
    ("VPN连不上了，connection failed", FAULT),
    ("Outlook报错，server not responding，邮件发不出去", FAULT),
    ("帮我reset一下OA的password，账号被锁了", PASSWORD),
    ("请delete重复的customer记录", DATA),
    ("我要complain，工单一周都没人回复", COMPLAINT),
]


def flatten(examples: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    texts = [text for texts in examples.values() for text in texts]
    labels = [label for label, texts in examples.items() for _text in texts]
    return texts, labels


@pytest.fixture(scope="module")
def zh_model() -> TextClassifier:
    return TextClassifier().fit(*flatten(ZH_TRAIN))


@pytest.fixture(scope="module")
def en_model() -> TextClassifier:
    return TextClassifier().fit(*flatten(EN_TRAIN))


@pytest.fixture(scope="module")
def bilingual_model() -> TextClassifier:
    zh_texts, zh_labels = flatten(ZH_TRAIN)
    en_texts, en_labels = flatten(EN_TRAIN)
    return TextClassifier().fit(zh_texts + en_texts, zh_labels + en_labels)


# --- text preprocessing ----------------------------------------------------------------------


def test_normalize_text_folds_width_and_case_and_drops_nul() -> None:
    assert normalize_text("ＶＰＮ　連線\x00ＥＲＲＯＲ") == "vpn 連線 error"
    assert normalize_text(None) == ""
    assert normalize_text(12) == "12"
    assert len(normalize_text("x" * 100_000)) == MAX_INPUT_CHARS


def test_word_tokens_segment_chinese_and_keep_latin_words() -> None:
    tokens = word_tokens(normalize_text("忘记密码了，请帮我重置ＶＰＮ账号 error 691 a"))
    assert "密码" in tokens
    assert "重置" in tokens
    assert "账号" in tokens
    assert "vpn" in tokens
    assert "error" in tokens
    assert "691" in tokens
    assert "a" not in tokens  # one-letter Latin tokens carry no meaning
    assert "，" not in tokens
    assert word_tokens("卡") == ["卡"]  # single Chinese characters can be words


CORPUS = [
    normalize_text(text)
    for text in [
        *flatten(ZH_TRAIN)[0][:30],
        *flatten(EN_TRAIN)[0][:30],
        "",
        "🔥🙏",
        "a b c",
        "密码 密码 password password reset reset",
    ]
]
OTHER = [normalize_text(text) for text, _label in ZH_HELDOUT + EN_HELDOUT + MIXED_HELDOUT] + [
    "全新 unknown-word 电脑",
    "",
]


def rows_equal(left, right) -> bool:
    """Same values row by row, whatever the column order of the two matrices."""
    if left.shape[0] != right.shape[0]:
        return False
    return all(
        np.allclose(np.sort(left[i].data), np.sort(right[i].data)) for i in range(left.shape[0])
    )


@pytest.mark.parametrize("min_df", [1, 2])
def test_word_vectorizer_matches_scikit_learn(min_df: int) -> None:
    reference = TfidfVectorizer(
        tokenizer=word_tokens,
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=min_df,
    )
    ours = WordNgramVectorizer(min_df=min_df)
    expected, got = reference.fit_transform(CORPUS), ours.fit_transform(CORPUS)
    assert got.shape == expected.shape
    assert rows_equal(got, expected)
    assert rows_equal(ours.transform(OTHER), reference.transform(OTHER))


def test_char_vectorizer_matches_a_plain_count_of_the_same_ngrams() -> None:
    def analyzer(doc: str) -> list[str]:
        grams = []
        for run in re.findall(r"\w+", doc):
            padded = f" {run} "
            if len(padded) <= 2:
                grams.append(padded)
                continue
            for n in range(2, min(5, len(padded)) + 1):
                grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
        return grams

    reference = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True)
    ours = CharNgramVectorizer(ngram_range=(2, 5), min_df=1)
    expected, got = reference.fit_transform(CORPUS), ours.fit_transform(CORPUS)
    assert got.shape == expected.shape
    assert rows_equal(got, expected)
    assert rows_equal(ours.transform(OTHER), reference.transform(OTHER))


def test_plain_word_block_is_exactly_scikit_learns_default_tfidf() -> None:
    """The baseline candidate's features are TfidfVectorizer() with its defaults."""
    texts = [plain_text(text) for text in [*flatten(EN_TRAIN)[0], *flatten(ZH_TRAIN)[0][:10], ""]]
    reference = TfidfVectorizer()
    ours = WordNgramVectorizer(tokenizer="plain", ngram_max=1, sublinear_tf=False)
    expected, got = reference.fit_transform(texts), ours.fit_transform(texts)
    assert got.shape == expected.shape
    assert rows_equal(got, expected)
    others = [plain_text(text) for text, _label in EN_HELDOUT + MIXED_HELDOUT]
    assert rows_equal(ours.transform(others), reference.transform(others))


@pytest.mark.parametrize(
    "candidate",
    [
        Candidate(("jieba12", "char24"), "svm"),
        Candidate(("words",), "svm", C=1.0, class_weight=None, tol=1e-4),
        Candidate(("char13",), "lr", C=10.0),
        Candidate(("jieba12",), "cnb", class_weight=None),
    ],
    ids=lambda candidate: candidate.name,
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_linear_form_gives_scikit_learns_decisions(candidate: Candidate) -> None:
    """Every model is stored as coef/intercept: the same scores and labels as the estimator."""
    texts, labels = flatten(EN_TRAIN)
    docs = [normalize_text(text) for text in texts]
    matrix = new_block(candidate.blocks[0], len(docs)).fit_transform(docs)
    classes = sorted(set(labels))
    y = np.asarray([classes.index(label) for label in labels])
    coef, intercept = fit_linear(candidate, matrix, y, len(classes))
    estimator = candidate.estimator().fit(matrix, y)
    scores = linear_scores(matrix, coef, intercept)
    assert list(scores.argmax(axis=1)) == list(estimator.predict(matrix))
    if candidate.model != "cnb":
        assert np.allclose(scores, estimator.decision_function(matrix))


def test_max_features_keeps_the_most_frequent() -> None:
    vectorizer = CharNgramVectorizer(ngram_range=(2, 2), max_features=1)
    vectorizer.fit(["ab ab", "ab", "cd"])
    assert vectorizer.vocabulary_ == {" a": 0}  # " a", "ab", "b " tie on 2 documents


# --- classification quality ------------------------------------------------------------------


def test_chinese_held_out_sentences(zh_model: TextClassifier) -> None:
    predictions = zh_model.predict([text for text, _label in ZH_HELDOUT])
    assert [p.label for p in predictions] == [label for _text, label in ZH_HELDOUT]
    assert all(0.0 < p.confidence <= 1.0 for p in predictions)


def test_english_held_out_sentences(en_model: TextClassifier) -> None:
    predictions = en_model.predict([text for text, _label in EN_HELDOUT])
    assert [p.label for p in predictions] == [label for _text, label in EN_HELDOUT]


def test_one_model_for_chinese_english_and_mixed_text(bilingual_model: TextClassifier) -> None:
    cases = ZH_HELDOUT + EN_HELDOUT + MIXED_HELDOUT
    predictions = bilingual_model.predict([text for text, _label in cases])
    assert [p.label for p in predictions] == [label for _text, label in cases]


def test_full_width_input_is_classified_like_half_width(zh_model: TextClassifier) -> None:
    half = zh_model.predict_one("VPN连不上，提示连接失败")
    full = zh_model.predict_one("ＶＰＮ连不上，提示连接失败")
    assert full == half


def test_classes_and_prediction_shape(zh_model: TextClassifier) -> None:
    assert zh_model.classes_ == sorted([COMPLAINT, DATA, FAULT, PASSWORD])
    prediction = zh_model.predict_one("忘记密码了")
    assert isinstance(prediction, Prediction)
    assert prediction.label == PASSWORD
    assert isinstance(prediction.confidence, float)
    probabilities = zh_model.predict_proba(["忘记密码了"])
    assert probabilities.shape == (1, 4)
    assert probabilities.sum() == pytest.approx(1.0)
    assert probabilities.max() == pytest.approx(prediction.confidence)
    assert zh_model.predict([]) == []


def test_confidence_is_calibrated_on_held_out_data() -> None:
    """With enough data the temperature is fitted on a held-out fifth, not left at default."""
    texts, labels = flatten(ZH_TRAIN)
    en_texts, en_labels = flatten(EN_TRAIN)
    model = TextClassifier().fit(texts + en_texts, labels + en_labels)
    assert model.temperature_ != TextClassifier.DEFAULT_TEMPERATURE
    assert 0.01 <= model.temperature_ <= 10.0
    tiny = TextClassifier().fit(
        ["密码忘了", "服务器宕机", "重置密码", "网络断了"], ["p", "f", "p", "f"]
    )
    assert tiny.temperature_ == TextClassifier.DEFAULT_TEMPERATURE


def test_training_is_reproducible(bilingual_model: TextClassifier) -> None:
    zh_texts, zh_labels = flatten(ZH_TRAIN)
    en_texts, en_labels = flatten(EN_TRAIN)
    again = TextClassifier().fit(zh_texts + en_texts, zh_labels + en_labels)
    texts = [text for text, _label in ZH_HELDOUT + EN_HELDOUT + MIXED_HELDOUT]
    assert again.temperature_ == bilingual_model.temperature_
    assert again.predict(texts) == bilingual_model.predict(texts)


def test_binary_classification() -> None:
    model = TextClassifier().fit(*flatten({FAULT: ZH_TRAIN[FAULT], PASSWORD: ZH_TRAIN[PASSWORD]}))
    assert model.classes_ == [FAULT, PASSWORD]
    fault = model.predict_one("邮件服务器宕机，无法发送邮件")
    password = model.predict_one("账号锁定了，请重置密码")
    assert (fault.label, password.label) == (FAULT, PASSWORD)
    assert 0.5 <= fault.confidence <= 1.0
    assert 0.5 <= password.confidence <= 1.0


# --- robustness ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "🔥🔥😡🙏", "！？。，", None, "\x00\x00"])
def test_input_without_words_gets_zero_confidence(zh_model: TextClassifier, text) -> None:
    prediction = zh_model.predict_one(text)
    assert prediction.label in zh_model.classes_
    assert prediction.confidence == 0.0


def test_emoji_around_words_does_not_matter(zh_model: TextClassifier) -> None:
    prediction = zh_model.predict_one("😡😡 我要投诉，服务态度太差了 😡😡")
    assert prediction.label == COMPLAINT
    assert prediction.confidence > 0.0


@pytest.mark.parametrize(
    "text",
    [
        "邮件服务器宕机了，发不出邮件。\x00" + "错误日志 connection refused " * 4_000,
        "邮件服务器宕机无法发送邮件" * 3_000,  # 39,000 Chinese characters without a break
        "VPN连不上，提示连接失败 " * 4_000,
    ],
)
def test_100_kb_input_is_fast_and_classified(zh_model: TextClassifier, text: str) -> None:
    assert len(text.encode()) > 100_000
    zh_model.predict_one("预热")  # the first call may load jieba's dictionary
    started = time.perf_counter()
    prediction = zh_model.predict_one(text)
    elapsed = time.perf_counter() - started
    assert prediction.label == FAULT
    assert elapsed < 1.0  # 10-60 ms on the reference machine; generous for a loaded CI box


def test_only_the_start_of_long_chinese_text_is_segmented() -> None:
    tokens = word_tokens("服务器宕机" * 3_000)
    assert sum(len(token) for token in tokens) == clf.MAX_SEGMENTED_CHARS


def test_a_label_seen_once_is_learnt() -> None:
    texts, labels = flatten(ZH_TRAIN)
    model = TextClassifier().fit([*texts, "申请采购一台新的显示器"], [*labels, "purchase"])
    assert "purchase" in model.classes_
    assert model.predict_one("申请采购一台新的显示器").label == "purchase"
    assert model.predict_one("忘记密码了，请帮我重置").label == PASSWORD


def test_a_single_label_is_refused() -> None:
    with pytest.raises(ValueError, match="at least two distinct labels"):
        TextClassifier().fit(["电脑坏了", "网络断了"], [FAULT, FAULT])
    with pytest.raises(ValueError, match="at least two distinct labels"):
        TextClassifier().fit([], [])


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="3 texts but 2 labels"):
        TextClassifier().fit(["a1", "b2", "c3"], [FAULT, PASSWORD])


def test_texts_without_words_are_refused() -> None:
    with pytest.raises(ValueError, match="no usable words"):
        TextClassifier().fit(["", "🔥", "!!"], [FAULT, PASSWORD, FAULT])


def test_labels_are_strings() -> None:
    model = TextClassifier().fit(["网络断了", "重置密码", "网络故障", "密码忘了"], [1, 2, 1, 2])
    assert model.classes_ == ["1", "2"]
    assert model.predict_one("网络又断了").label == "1"


def test_unfitted_model_refuses_to_predict() -> None:
    with pytest.raises(RuntimeError, match="not trained"):
        TextClassifier().predict_one("电脑坏了")
