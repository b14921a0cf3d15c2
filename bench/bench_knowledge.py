"""Knowledge search at scale (issue #12): `python bench/bench_knowledge.py [--quick] [--small]`.

On the bench database (bench/generate.py), with 100,000 articles (half Chinese, half English;
`--small`: 10,000) generated from realistic text — the English ones from the Endava IT tickets
in ../shared/data, the Chinese ones composed from the demo desk's articles and phrases:

- import: the first 10,000 articles through `knowledge.importing` (the `knowledge_import` path);
- search and suggest in process (`knowledge.selectors.article_search`) over a mix of short
  and long, Chinese and English queries: median / p90 ms;
- suggest over HTTP (`GET /api/knowledge/suggest/`, gunicorn as in bench_tickets): median / p90;
- the agent's ticket page and its knowledge panel (Django test client, in process);
- suggestion quality on a labelled split of the Endava tickets (articles from one part,
  queries from another, relevant = same topic group): hit@5 and MRR of the desk's ranking
  versus plain PostgreSQL full text (`plainto_tsquery('english')`, AND; and its OR variant),
  measured on the eval articles alone inside a transaction that is rolled back.

Prints one JSON object on its last line.
"""

from __future__ import annotations

import csv
import gzip
import http.client
import os
import random
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

# ../shared/data beside the project (the nearest ancestor that has it), or BENCH_ENDAVA_CSV.
DATA = Path(
    os.environ.get("BENCH_ENDAVA_CSV")
    or next(
        (
            str(p / "shared" / "data" / "it_tickets_en.csv.gz")
            for p in common.ROOT.parents
            if (p / "shared" / "data" / "it_tickets_en.csv.gz").exists()
        ),
        "shared/data/it_tickets_en.csv.gz",
    )
)
FULL_ARTICLES, SMALL_ARTICLES = 100_000, 10_000
IMPORT_MEASURED = 10_000
EVAL_ARTICLES, EVAL_QUERIES = 3_000, 600
SEED = 12
PREFIX = "bench-kb-"

ZH_SYSTEMS = [
    "集中交易系统",
    "清算结算系统",
    "电子邮件",
    "VPN",
    "无线网络",
    "数据库平台",
    "OA 协同办公",
    "ERP 财务模块",
    "人力资源系统",
    "打印机",
    "电脑",
    "行情服务",
    "网上营业厅",
    "视频会议",
]
ZH_SYMPTOMS = [
    "无法登录",
    "登录后闪退",
    "提示密码错误",
    "账号被锁定",
    "连接超时",
    "频繁断开",
    "打开很慢",
    "报表导出失败",
    "数据显示不一致",
    "证书过期",
    "无法打印",
    "页面空白",
    "审批流程卡住",
    "附件无法上传",
    "同步失败",
    "权限不足",
    "提示内存不足",
    "升级后报错",
]
ZH_CAUSES = [
    "客户端版本过旧",
    "缓存文件损坏",
    "网络策略调整",
    "证书已更新",
    "配置文件指向旧地址",
    "磁盘空间不足",
    "服务端会话超时",
    "权限未同步",
    "驱动不匹配",
]
ZH_STEPS = [
    "重启客户端",
    "清除浏览器缓存",
    "在软件中心升级到最新版",
    "删除本地缓存文件夹",
    "在自助门户重置密码",
    "检查网络连接并重新登录",
    "联系部门管理员授权",
    "重新安装驱动",
    "更新数字证书",
    "核对系统时间",
]


def endava() -> list[tuple[str, str]]:
    with gzip.open(DATA, "rt", encoding="utf-8") as stream:
        return [(row["Document"], row["Topic_group"]) for row in csv.DictReader(stream)]


def english_row(index: int, text: str, label: str, prefix: str = PREFIX) -> dict[str, str]:
    words = text.split()
    return {
        "external_id": f"{prefix}{index}",
        "title": " ".join(words[:8])[:200] or "untitled",
        "symptom": " ".join(words[8:40]),
        "steps": " ".join(words[40:300]),
        "language": "en",
        "audience": "public" if index % 3 else "internal",
    }


def chinese_row(index: int, rng: random.Random) -> dict[str, str]:
    system, symptom = rng.choice(ZH_SYSTEMS), rng.choice(ZH_SYMPTOMS)
    cause = rng.choice(ZH_CAUSES)
    steps = rng.sample(ZH_STEPS, 3)
    return {
        "external_id": f"{PREFIX}{index}",
        "title": f"{system}{symptom}（{cause}）",
        "symptom": f"用户反映{system}{symptom}，{rng.choice(ZH_SYMPTOMS)}，影响日常办公。",
        "cause": f"经排查为{cause}。",
        "steps": "\n".join(f"{n}. {s}" for n, s in enumerate(steps, 1)),
        "language": "zh-hans",
        "audience": "public" if index % 3 else "internal",
    }


def corpus(count: int, tickets: list[tuple[str, str]]) -> list[dict[str, str]]:
    rng = random.Random(SEED)
    rows = []
    for index in range(count):
        if index % 2:
            text, label = tickets[index // 2 % len(tickets)]
            rows.append(english_row(index, text, label))
        else:
            rows.append(chinese_row(index, rng))
    return rows


def queries(tickets: list[tuple[str, str]]) -> list[str]:
    rng = random.Random(SEED + 1)
    short_zh = ["密码", "VPN 断开", "证书过期", "打印机", "报表导出", "账号锁定", "审批卡住"]
    long_zh = [
        f"{rng.choice(ZH_SYSTEMS)}{rng.choice(ZH_SYMPTOMS)}，{rng.choice(ZH_SYMPTOMS)}，请尽快处理"
        for _ in range(20)
    ]
    short_en = ["password", "printer", "vpn", "laptop", "access", "outlook", "passwrd"]
    long_en = [" ".join(text.split()[:30]) for text, _label in rng.sample(tickets, 20)]
    return short_zh + long_zh + short_en + long_en


def ensure_schema(quick: bool) -> None:
    import subprocess

    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=common.ROOT,
        env=common.bench_env(quick),
        check=True,
    )


def fill(target: int, tickets, actor) -> dict:
    from knowledge.importing import import_articles
    from knowledge.models import Article

    have = Article.objects.filter(external_id__startswith=PREFIX).count()
    result: dict = {"articles_before": have}
    rows = corpus(target, tickets)[have:]
    if have == 0:
        first = rows[:IMPORT_MEASURED]
        started, started_cpu = time.perf_counter(), time.process_time()
        report = import_articles(rows=first, actor=actor)
        seconds = time.perf_counter() - started
        result["import_10k"] = {"articles": report.created, "seconds": round(seconds, 1),
                                "python_cpu_s": round(time.process_time() - started_cpu, 1),
                                "per_second": round(report.created / seconds)}  # fmt: skip
        common.log(f"import of {report.created} articles: {seconds:.1f} s")
        rows = rows[IMPORT_MEASURED:]
    for start in range(0, len(rows), 10_000):
        import_articles(rows=rows[start : start + 10_000], actor=actor)
        common.log(f"articles: {have + IMPORT_MEASURED + start + 10_000}")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE knowledge_article")
    from knowledge.selectors import term_stats_refresh

    # What the hourly beat job `knowledge.term_stats` keeps fresh on a running desk.
    started = time.perf_counter()
    term_stats_refresh()
    result["term_stats_s"] = round(time.perf_counter() - started, 2)
    return result


def bench_search(viewer, texts: list[str], runs: int) -> dict:
    from knowledge import search
    from knowledge.selectors import article_search

    state = {"i": 0}

    def one():
        text = texts[state["i"] % len(texts)]
        state["i"] += 1
        # Every text as if seen for the first time (the per-process keyword memo would
        # otherwise flatter the texts measured twice).
        search._query_terms.cache_clear()
        return article_search(viewer=viewer, query=text, limit=5)

    timing = common.time_calls(one, runs=max(runs, len(texts)))
    timing["queries"] = common.count_queries(one)
    timing["db_cpu_mean_ms"] = backend_cpu_ms(one, len(texts) * 2)
    return timing


def backend_cpu_ms(fn, calls: int) -> float | None:
    """Mean CPU time of this connection's PostgreSQL backend per call of `fn`, read from
    /proc (the server runs on this machine): with the Python CPU time, what a call costs
    whatever else the machine is doing. None when the backend's process is not visible."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
    if not stat.exists():
        return None

    def cpu_seconds() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    started = cpu_seconds()
    for _ in range(calls):
        fn()
    return round((cpu_seconds() - started) * 1000 / calls, 2)


def bench_http(quick: bool, user, texts: list[str], runs: int) -> dict:
    from bench_tickets import free_port, start_gunicorn
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    port = free_port()
    process = start_gunicorn(quick, port, threads=4)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        samples = []
        for index in range(max(runs, len(texts)) + 5):
            query = urllib.parse.urlencode({"q": texts[index % len(texts)], "limit": 5})
            started = time.perf_counter()
            conn.request("GET", f"/api/knowledge/suggest/?{query}",
                         headers={"Authorization": f"Token {token.key}"})  # fmt: skip
            response = conn.getresponse()
            body = response.read()
            if index >= 5:  # warm-up
                samples.append((time.perf_counter() - started) * 1000)
            assert response.status == 200, body[:200]
        samples.sort()
        return {
            "median_ms": round(statistics.median(samples), 2),
            "p90_ms": round(samples[int(len(samples) * 0.9)], 2),
            "runs": len(samples),
        }
    finally:
        process.terminate()
        process.wait(timeout=30)


def bench_ticket_page(agent, runs: int) -> dict:
    from django.test import Client

    from tickets.selectors import ticket_list

    ticket = ticket_list(viewer=agent).first()
    client = Client(HTTP_HOST="localhost")
    client.force_login(agent)
    result = {"ticket": ticket.number}
    for key, url, headers in (
        ("page", f"/workspace/tickets/{ticket.number}/", {}),
        ("panel", f"/knowledge/ticket/{ticket.number}/panel/", {"HTTP_HX_REQUEST": "true"}),
    ):

        def get(url=url, headers=headers):
            response = client.get(url, **headers)
            assert response.status_code == 200, (url, response.status_code)

        result[key] = {**common.time_calls(get, runs=runs), "queries": common.count_queries(get)}
    result["page_plus_panel_median_ms"] = round(
        result["page"]["median_ms"] + result["panel"]["median_ms"], 2
    )
    return result


class Rollback(Exception):
    pass


def bench_quality(tickets, actor) -> dict:
    """hit@5 and MRR@10 of the desk's ranking and of plain PostgreSQL full text."""
    from django.db import connection, transaction

    from knowledge.importing import import_articles
    from knowledge.selectors import article_search

    rng = random.Random(SEED + 2)
    order = list(range(len(tickets)))
    rng.shuffle(order)
    article_part = order[:EVAL_ARTICLES]
    query_part = order[EVAL_ARTICLES : EVAL_ARTICLES + EVAL_QUERIES]
    labels: dict[int, str] = {}
    result: dict = {"articles": EVAL_ARTICLES, "queries": EVAL_QUERIES,
                    "relevant": "same Endava topic group"}  # fmt: skip
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                # Only the eval articles count: everything else leaves the search (rolled back).
                cursor.execute("UPDATE knowledge_article SET status = 'retired'")
            rows = []
            for index in article_part:
                text, label = tickets[index]
                rows.append(english_row(index, text, label, prefix="eval-"))
                rows[-1]["audience"] = "public"
            import_articles(rows=rows, actor=actor)
            from knowledge.models import Article
            from knowledge.selectors import term_stats_refresh

            # The document frequencies of this corpus (the beat job's; refreshed for the
            # whole desk again after the rollback, by `fill`).
            term_stats_refresh()

            for pk, external_id in Article.objects.filter(
                external_id__startswith="eval-"
            ).values_list("pk", "external_id"):
                labels[pk] = tickets[int(external_id[5:])][1]
            texts = [(" ".join(tickets[i][0].split()[:25]), tickets[i][1]) for i in query_part]

            def desk(text):
                return [h.article.pk for h in article_search(viewer=actor, query=text, limit=10)]

            with connection.cursor() as cursor:
                # Plain full text as a desk would store it: an english tsvector per article.
                cursor.execute(
                    """CREATE TEMP TABLE eval_fts ON COMMIT DROP AS
                    SELECT id, to_tsvector('english', title || ' ' || symptom || ' ' || steps) v
                    FROM knowledge_article WHERE status = 'published';
                    CREATE INDEX ON eval_fts USING gin (v); ANALYZE eval_fts"""
                )

            def plain(text, mode):
                tsquery = "plainto_tsquery('english', %s)"
                if mode == "or":
                    tsquery = f"replace({tsquery}::text, '&', '|')::tsquery"
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"""SELECT id FROM eval_fts, (SELECT {tsquery} AS q) AS w
                        WHERE v @@ w.q ORDER BY ts_rank(v, w.q) DESC, id DESC
                        LIMIT 10""",  # noqa: S608  # nosec B608 (two fixed SQL fragments)
                        [text],
                    )
                    return [row[0] for row in cursor.fetchall()]

            rankers = {
                "desk_ranking": desk,
                "plain_fts_and": lambda t: plain(t, "and"),
                "plain_fts_or": lambda t: plain(t, "or"),
            }
            for name, ranker in rankers.items():
                hits, reciprocal, empty = 0, 0.0, 0
                for text, label in texts:
                    ranked = ranker(text)
                    empty += not ranked
                    first = next(
                        (n for n, pk in enumerate(ranked, 1) if labels.get(pk) == label), None
                    )
                    hits += first is not None and first <= 5
                    reciprocal += 1 / first if first else 0
                result[name] = {
                    "hit_at_5": round(hits / len(texts), 3),
                    "mrr_at_10": round(reciprocal / len(texts), 3),
                    "no_result": round(empty / len(texts), 3),
                }
                common.log(f"quality {name}: {result[name]}")
            raise Rollback
    except Rollback:
        pass
    return result


def main(argv: list[str] | None = None) -> int:
    args = common.parse_args(__doc__.splitlines()[0], argv)
    small = "--small" in (argv or sys.argv[1:]) or args.quick
    common.setup_django(args.quick)
    ensure_schema(args.quick)
    from accounts.models import User
    from tickets.models import Ticket

    runs = args.runs or (30 if small else 60)
    target = SMALL_ARTICLES if small else FULL_ARTICLES
    agents = User.objects.filter(username__startswith="bench-front-", is_active=True)
    agent = agents.order_by("pk").first() or User.objects.filter(is_superuser=True).first()
    tickets = endava()
    texts = queries(tickets)
    result: dict = {"name": "knowledge", "tickets": Ticket.objects.count(), "agent": agent.username}
    result["quality"] = bench_quality(tickets, agent)
    result.update(fill(target, tickets, agent))
    from knowledge.models import Article

    result["articles"] = Article.objects.filter(status="published").count()
    result["search_in_process"] = bench_search(agent, texts, runs)
    common.log(f"search in process: {result['search_in_process']}")
    result["suggest_http"] = bench_http(args.quick, agent, texts, runs)
    common.log(f"suggest over HTTP: {result['suggest_http']}")
    result["ticket_page"] = bench_ticket_page(agent, runs)
    common.log(f"ticket page: {result['ticket_page']}")
    result["targets"] = {
        "search_median_ms": 30,
        "http_p90_ms": 60,
        "ticket_page_ms": 50,
        "import_10k_s": 60,
    }
    common.emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
