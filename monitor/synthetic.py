"""Synthetic but realistic post streams, for demos, tests and benchmarks.

A week of multilingual posts about an exchange with a daily rhythm (busier in the day, quiet
at night), from app stores, Reddit and X, and one incident: a two-hour surge of withdrawal
complaints. Deterministic for a seed. Run `python -m monitor.synthetic --posts 20000 > demo.jsonl`.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from datetime import datetime, timedelta, timezone
from typing import Iterator

START = datetime(2026, 3, 2, tzinfo=timezone.utc)  # a Monday

TEMPLATES: dict[str, dict[str, list[str]]] = {
    "withdrawal": {
        "en": ["Withdrawal stuck for {n} hours, support not answering", "My USDT withdrawal is still pending after {n}h",
               "withdrawals not arriving, where is my money?"],
        "zh": ["提现一直不到账，已经{n}个小时了", "USDT提币卡住了，客服也不回复"],
        "ko": ["출금이 {n}시간째 안 돼요", "출금 대기 중 계속 멈춰 있음"],
        "ja": ["出金が{n}時間反映されない", "USDTの出金が止まっています"],
        "ru": ["Вывод средств завис уже {n} часов", "Не приходит вывод USDT"],
        "vi": ["Rút tiền bị treo {n} giờ rồi", "Không rút được USDT"],
        "tr": ["Para çekme işlemi {n} saattir bekliyor", "USDT çekimi gelmedi"],
        "es": ["El retiro lleva {n} horas pendiente", "No me llega el retiro de USDT"],
    },
    "login": {
        "en": ["Can't log in after the update, 2FA code never arrives", "login keeps failing with error {n}"],
        "zh": ["更新后登录不了，验证码收不到", "一直登录失败"],
        "ko": ["업데이트 후 로그인이 안 돼요"],
        "ru": ["Не могу войти в аккаунт после обновления"],
        "es": ["No puedo iniciar sesión después de la actualización"],
    },
    "crash": {
        "en": ["App crashes on startup since version {v}", "The app keeps freezing on the trade screen"],
        "zh": ["新版本一打开就闪退", "APP老是卡死"],
        "ja": ["アプリが起動直後に落ちる"],
        "vi": ["Ứng dụng bị treo khi mở"],
        "tr": ["Uygulama açılırken çöküyor"],
    },
    "security": {
        "en": ["My account was hacked and funds withdrawn without my permission", "Fake support DM asked for my seed phrase"],
        "zh": ["账户被盗了，资产被转走", "有人冒充客服骗我"],
        "ko": ["계정이 해킹당해서 자산이 빠져나갔어요"],
        "ru": ["Мой аккаунт взломали и вывели деньги"],
        "es": ["Me hackearon la cuenta y retiraron mis fondos"],
    },
    "trading": {
        "en": ["Fees are too high on futures", "My stop loss did not trigger, got liquidated"],
        "zh": ["合约手续费太高了", "止损没触发直接爆仓"],
        "pt": ["As taxas de negociação estão muito altas"],
    },
    "praise": {
        "en": ["Great app, fast deposits, love it", "Best exchange I have used, smooth experience"],
        "zh": ["很好用，充值很快，好评", "界面清晰，体验不错"],
        "ko": ["앱이 정말 좋아요"], "ja": ["使いやすくて最高です"], "ru": ["Отличное приложение, всё быстро"],
        "vi": ["Ứng dụng rất tốt"], "tr": ["Harika uygulama, çok hızlı"], "es": ["Excelente aplicación, muy rápida"],
        "pt": ["Ótimo aplicativo, muito rápido"],
    },
    "suggestion": {
        "en": ["Please add dark mode to the web version", "It would be nice to have price alerts for more coins"],
        "zh": ["希望增加更多币种的价格提醒"],
    },
    "neutral": {
        "en": ["Is the exchange supporting the new token listing?", "What time is the maintenance tomorrow?"],
        "zh": ["请问明天几点维护？"], "es": ["¿Cuándo listan el nuevo token?"],
    },
}
# the everyday mix: mostly praise and questions, a steady trickle of complaints
MIX = [("praise", 0.34), ("neutral", 0.25), ("trading", 0.14), ("login", 0.06), ("crash", 0.06),
       ("withdrawal", 0.03), ("suggestion", 0.10), ("security", 0.02)]
RATING = {"praise": (4, 5), "suggestion": (3, 4), "neutral": (3, 5), "trading": (2, 3), "login": (1, 2),
          "crash": (1, 2), "withdrawal": (1, 1), "security": (1, 1)}
SOURCES = [("okx-google-play", "google_play", 0.35), ("okx-app-store", "app_store", 0.15),
           ("reddit-okx", "rss", 0.20), ("x-okx", "twitter", 0.30)]


def _rate(t: datetime) -> float:
    """Relative posting rate: a daily cycle peaking in the (UTC) afternoon, busier on weekdays."""
    hour = t.hour + t.minute / 60
    daily = 1.0 + 0.8 * math.sin((hour - 8) / 24 * 2 * math.pi)
    return daily * (0.8 if t.weekday() >= 5 else 1.0)


def generate(posts: int = 10_000, seed: int = 7, days: int = 7, start: datetime = START,
             incident_at: timedelta | None = timedelta(days=4, hours=14), incident_share: float = 0.04
             ) -> Iterator[dict]:
    """Yield post JSONL objects in time order."""
    rng = random.Random(seed)
    span = days * 86400
    # draw times by thinning a uniform stream against the daily rate
    times: list[float] = []
    while len(times) < posts:
        s = rng.uniform(0, span)
        if rng.uniform(0, 1.8) <= _rate(start + timedelta(seconds=s)):
            times.append(s)
    times.sort()
    surge = int(posts * incident_share) if incident_at is not None else 0
    surge_times = sorted(incident_at.total_seconds() + rng.uniform(0, 7200) for _ in range(surge))
    events = [(t, False) for t in times[: posts - surge]] + [(t, True) for t in surge_times]
    events.sort()
    authors = [f"user{i}" for i in range(max(50, posts // 4))]
    kinds, weights = zip(*MIX)
    for i, (offset, in_surge) in enumerate(events):
        kind = "withdrawal" if in_surge else rng.choices(kinds, weights)[0]
        lang = rng.choice(list(TEMPLATES[kind]))
        text = rng.choice(TEMPLATES[kind][lang]).format(n=rng.randint(2, 30), v=f"6.{rng.randint(80, 99)}.0")
        name, stype, _ = rng.choices(SOURCES, [w for *_, w in SOURCES])[0]
        created = start + timedelta(seconds=offset)
        obj = {"source": name, "source_type": stype, "id": f"{name}-{i}", "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
               "text": text, "author": rng.choice(authors), "lang": lang if stype in ("google_play", "app_store") else None}
        if stype in ("google_play", "app_store"):
            obj["rating"] = rng.randint(*RATING[kind])
            obj["app_version"] = f"6.{90 + (offset > span / 2)}.0"
        yield {k: v for k, v in obj.items() if v is not None}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-incident", action="store_true")
    args = parser.parse_args(argv)
    out = sys.stdout
    for obj in generate(args.posts, args.seed, args.days, incident_at=None if args.no_incident else
                        timedelta(days=min(4, args.days - 1), hours=14)):
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
