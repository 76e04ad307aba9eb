"""Shop vocabulary for FAQ search: synonyms in both languages mapped to one concept.

"hoàn tiền", "tiền về", "refund" and "money back" all become the concept
`c_refund`, so an English question finds an entry whose examples are in
Vietnamese, and "ship" meets "giao hàng". Phrases are matched on folded text
(no diacritics), longest first. Editors may extend the lists; `make faq-eval`
shows the effect.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Dict, List, Tuple

from bot.text import fold, nfc

CONCEPTS: Dict[str, Tuple[str, ...]] = {
    "c_ship": ("giao hang", "giao", "ship", "shipping", "ship hang", "van chuyen", "chuyen phat", "delivery",
               "deliver", "delivers", "delivered", "shipped", "ships", "courier", "don vi van chuyen"),
    "c_howlong": ("bao lau", "may ngay", "bao nhieu ngay", "mat may ngay", "how long", "how many days",
                  "when will", "bao gio", "khi nao", "how soon", "lau khong", "ngay nao"),
    "c_howmuch": ("bao nhieu tien", "het bao nhieu", "how much", "gia bao nhieu", "tinh phi", "phi", "fee", "fees",
                  "cost", "costs", "price", "pricing", "tien ship", "phi ship"),
    "c_free": ("freeship", "free ship", "mien phi", "free", "khong mat phi", "for free"),
    "c_return": ("tra hang", "doi tra", "gui tra", "tra lai hang", "hoan hang", "tra lai", "return", "returns",
                 "returned", "returning", "send back", "send it back", "sent back", "gui lai"),
    "c_exchange": ("doi size", "doi mau", "doi sang", "doi hang", "exchange", "exchanged", "swap", "different size",
                   "other size", "another size", "another colour", "another color"),
    "c_refund": ("hoan tien", "tra tien lai", "tra lai tien", "tien ve", "nhan lai tien", "lay lai tien", "refund",
                 "refunds", "refunded", "money back", "reimburse", "reimbursed", "get my money"),
    "c_warranty": ("bao hanh", "warranty", "guarantee", "guaranteed", "sua chua", "repair"),
    "c_cancel": ("huy", "huy don", "bo don", "khong mua nua", "khong lay nua", "cancel", "cancelled", "canceled",
                 "cancellation", "call off"),
    "c_address": ("dia chi", "address", "addresses"),
    "c_change": ("thay doi", "doi", "sua", "cap nhat", "change", "changed", "update", "edit", "modify", "chinh"),
    "c_track": ("theo doi", "kiem tra don", "don toi dau", "don den dau", "tracking", "track", "where is my",
                "ma van don", "van don", "hanh trinh"),
    "c_invoice": ("hoa don do", "hoa don", "vat", "gtgt", "invoice", "invoices", "receipt", "e-invoice",
                  "hoa don dien tu"),
    "c_company": ("cong ty", "doanh nghiep", "company", "business", "ma so thue", "tax code", "mst", "corporate"),
    "c_hours": ("may gio", "gio lam viec", "mo cua", "dong cua", "opening hours", "open", "opens", "close",
                "closes", "hours", "what time", "lam viec", "gio nao"),
    "c_contact": ("hotline", "so dien thoai", "sdt", "lien he", "lien lac", "contact", "email", "phone number", "call",
                  "zalo", "telegram", "fanpage"),
    "c_register": ("dang ky", "tao tai khoan", "register", "sign up", "signup", "create an account",
                   "open an account"),
    "c_account": ("tai khoan", "tk", "account", "profile", "ho so"),
    "c_password": ("mat khau", "mk", "password", "pass", "dang nhap", "login", "log in", "sign in"),
    "c_forget": ("quen", "forgot", "forget", "forgotten", "lost", "reset", "lay lai"),
    "c_otp": ("otp", "ma xac nhan", "ma xac thuc", "verification code", "code xac nhan", "tin nhan xac nhan",
              "sms", "ma otp"),
    "c_voucher": ("voucher", "vouchers", "ma giam gia", "coupon", "coupons", "promo code", "discount code",
                  "code giam gia", "ma khuyen mai", "ma uu dai", "code"),
    "c_promo": ("khuyen mai", "sale", "uu dai", "promotion", "promotions", "deal", "deals", "giam gia",
                "discount", "discounts", "flash sale", "chuong trinh"),
    "c_points": ("tich diem", "diem thuong", "diem", "points", "point", "loyalty", "membership", "thanh vien",
                 "member", "hang thanh vien", "rewards"),
    "c_size": ("size", "sizes", "kich co", "kich thuoc", "bang size", "size chart", "sizing", "so do", "mac vua",
               "fit", "fits"),
    "c_stock": ("het hang", "con hang", "out of stock", "in stock", "restock", "restocked", "back in stock",
                "ve hang", "co hang lai", "available", "sold out"),
    "c_gift": ("goi qua", "qua tang", "gift", "gifts", "gift wrap", "wrapping", "wrap", "thiep", "card message"),
    "c_pay": ("thanh toan", "payment", "payments", "pay", "paying", "paid", "tra tien"),
    "c_cod": ("cod", "nhan hang roi tra tien", "thanh toan khi nhan hang", "cash on delivery", "pay on delivery",
              "tien mat", "cash", "tra tien khi nhan"),
    "c_wallet": ("momo", "zalopay", "vnpay", "shopeepay", "vi dien tu", "e-wallet", "ewallet", "wallet", "qr"),
    "c_bank": ("chuyen khoan", "ck", "ngan hang", "bank transfer", "bank", "transfer", "internet banking", "stk"),
    "c_card": ("the tin dung", "the ghi no", "credit card", "debit card", "visa", "mastercard", "the atm", "card"),
    "c_installment": ("tra gop", "installment", "installments", "pay later", "pay monthly", "tra sau"),
    "c_fail": ("that bai", "khong thanh cong", "bi loi", "failed", "fail", "fails", "error", "declined",
               "did not go through", "didn't go through", "khong duoc"),
    "c_deducted": ("bi tru tien", "tru tien", "da tru", "charged", "deducted", "money taken", "taken from my",
                   "mat tien", "da chuyen tien", "paid but"),
    "c_complaint": ("khieu nai", "phan anh", "phan nan", "complaint", "complaints", "complain"),
    "c_status": ("tinh trang", "trang thai", "den dau roi", "status", "progress", "xu ly toi dau", "update on"),
    "c_intl": ("quoc te", "nuoc ngoai", "international", "internationally", "overseas", "abroad", "ngoai nuoc",
               "another country", "other countries", "viet kieu", "singapore", "han quoc", "nhat ban", "usa",
               "australia", "japan", "korea", "uc", "duc", "phap", "canada", "dai loan", "trung quoc", "thai lan",
               "germany", "france", "taiwan", "china", "thailand", "malaysia", "america", "uk"),
    "c_region": ("toan quoc", "tinh", "tinh thanh", "nationwide", "province", "provinces", "vung sau",
                 "huyen", "xa", "rural", "island", "dao"),
    "c_express": ("hoa toc", "giao nhanh", "trong ngay", "express", "same day", "same-day", "2 gio", "vai gio",
                  "few hours", "fast delivery", "now"),
    "c_missed": ("khong co nha", "vang nha", "lo mat", "missed", "not home", "not at home", "giao lai",
                 "redeliver", "redelivery", "khong nghe may", "goi khong duoc"),
    "c_authentic": ("chinh hang", "hang that", "hang gia", "hang nhai", "fake", "authentic", "genuine", "original",
                    "counterfeit", "real"),
    "c_store": ("cua hang", "showroom", "offline", "store", "den xem", "xem truc tiep", "mua truc tiep",
                "physical", "visit"),
    "c_guest": ("khong can tai khoan", "khong dang ky", "khong tao tai khoan", "guest", "without an account",
                "without account", "without registering"),
    "c_pricedrop": ("xuong gia", "ha gia", "price drop", "price dropped", "cheaper", "giam gia sau",
                    "bu chenh lech", "price difference"),
    # Chat shorthand (teen-code) for shop words.
    "c_product": ("san pham", "sp", "mon hang", "item", "items", "product", "products"),
    "c_order": ("don hang", "don", "dh", "order", "orders", "ma don"),
    "c_damaged": ("hu hong", "bi vo", "bi hong", "hong", "damaged", "broken", "defective", "faulty", "cracked"),
    "c_wrong": ("giao sai", "sai hang", "nham hang", "wrong item", "wrong product", "wrong"),
}

# Chat shorthand, expanded before the concepts are matched (folded forms).
SHORTHAND: Dict[str, str] = {
    "ko": "khong", "k": "khong", "hok": "khong", "kh": "khong", "hem": "khong",
    "dc": "duoc", "dk": "duoc", "đc": "duoc", "j": "gi", "z": "vay", "r": "roi", "ntn": "nhu the nao",
    "bn": "bao nhieu", "bnhieu": "bao nhieu", "mik": "minh", "mk": "mat khau", "tk": "tai khoan",
    "ck": "chuyen khoan", "sdt": "so dien thoai", "dt": "dien thoai", "sp": "san pham", "hd": "hoa don",
    "bh": "bao gio", "ms": "moi", "vs": "voi", "ship": "ship", "ad": "ad", "pls": "please", "plz": "please",
    "u": "you", "ur": "your", "thx": "thanks", "q": "question",
}

# Shorthand that is only shorthand with its diacritics: "hông" is "không", but
# folded it would be "hong", which is "hỏng" (broken) as often as not.
SHORTHAND_WITH_DIACRITICS: Dict[str, str] = {"hông": "khong"}

STOPWORDS = frozenset(
    """shop oi ad a nhe nha vay ha khong ko k co minh toi em anh chi ban bn mik e cho hoi la thi the nao gi j
    duoc dc cua va voi de lam sao neu roi da dang se cai nay do o tai trong tu mot nhung cac muon can biet
    giup xin vui long nhi ak u uh i me my you your we our us the an is are was were be to of for in on at
    do does did can could would will what when where why which it this that there please hi hello and or
    if with have has get got im i'm its it's want need know tell about any some""".split()
)


@lru_cache(maxsize=1)
def _phrase_pattern():
    lookup: Dict[str, List[str]] = {}
    for concept, variants in CONCEPTS.items():
        for phrase in variants:
            lookup.setdefault(fold(phrase), []).append(concept)
    phrases = sorted(lookup, key=len, reverse=True)
    # A phrase may stand for several concepts ("tien ship" is a fee and a delivery).
    for phrase in phrases:
        for shorter in phrases:
            if shorter != phrase and re.search(r"(?<!\w)" + re.escape(shorter) + r"(?!\w)", phrase):
                lookup[phrase] = sorted(set(lookup[phrase]) | set(lookup[shorter]))
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(p) for p in phrases) + r")(?!\w)")
    return pattern, {p: " ".join(c) for p, c in lookup.items()}


def _stem(token: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if token.isascii() and len(token) > len(suffix) + 3 and token.endswith(suffix):
            return token[: -len(suffix)]
    return token


@lru_cache(maxsize=65536)
def _expanded(token: str) -> str:
    """A lower-case word folded, or the words its shorthand stands for ("ko" → "khong")."""
    folded = fold(token)
    return SHORTHAND_WITH_DIACRITICS.get(token) or SHORTHAND.get(folded, folded)


def concept_text(text: str) -> str:
    """Folded words with synonyms replaced by concepts, fillers dropped and English lightly stemmed."""
    pattern, lookup = _phrase_pattern()
    # Words repeat across the FAQ's questions: each distinct one is folded and looked up once.
    expanded = " ".join(_expanded(token) for token in re.findall(r"[\w'-]+", nfc(text).lower()))
    folded = pattern.sub(lambda m: f" {lookup[m.group(1)]} ", expanded)
    tokens = re.findall(r"\w+", folded)
    return " ".join(t if t.startswith("c_") else _stem(t) for t in tokens if t not in STOPWORDS)
