"""Deterministic generators of valid identifiers and plausible people, for seed_demo and tests."""

import datetime as dt
import random

from unionfunds.core.identifiers import CREDIT_CODE_ALPHABET, credit_code_check_char, id_number_check_char

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强"
    "海燕俊峰晓东红梅文斌宇鹏飞玲丹萍婷雪琳浩然子豪欣怡思远嘉懿"
)
PLATFORMS = [
    "美团",
    "饿了么",
    "顺丰速运",
    "中通快递",
    "圆通速递",
    "韵达快递",
    "京东物流",
    "滴滴出行",
    "货拉拉",
    "满帮",
    "曹操出行",
    "菜鸟驿站",
]
# Birthplace codes: Zhejiang and the provinces many new-economy workers come from.
BIRTHPLACES = [
    "330106",
    "330110",
    "330212",
    "330302",
    "330522",
    "331082",
    "340104",
    "341222",
    "360102",
    "410102",
    "420102",
    "430102",
    "510104",
    "522101",
    "612401",
]


def credit_code(rng: random.Random, county_code: str) -> str:
    body = "81" + county_code + "".join(rng.choice(CREDIT_CODE_ALPHABET) for _ in range(9))
    return body + credit_code_check_char(body)


def id_number(rng: random.Random, *, gender: str | None = None, born_after: int = 1966, born_before: int = 2004) -> str:
    born = dt.date(born_after, 1, 1) + dt.timedelta(days=rng.randrange((born_before - born_after) * 365))
    seq = rng.randrange(100)
    sex_digit = rng.choice("13579" if gender == "M" else "02468" if gender == "F" else "0123456789")
    body = f"{rng.choice(BIRTHPLACES)}{born:%Y%m%d}{seq:02d}{sex_digit}"
    return body + id_number_check_char(body)


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def phone(rng: random.Random) -> str:
    return rng.choice(["138", "139", "150", "151", "158", "177", "187", "189"]) + f"{rng.randrange(10**8):08d}"
