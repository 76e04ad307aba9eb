"""Demo data: customers and orders DH100001–DH100020. Safe to run again, and kept out of real shops."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.store.models import Customer, Order

DEMO_CUSTOMERS = [
    ("Nguyễn Thị Lan", "0912345678", "lan.nguyen@example.com"),
    ("Trần Văn Minh", "0987654321", "minh.tran@example.com"),
    ("Lê Hoàng Anh", "0903111222", "anh.le@example.com"),
    ("Phạm Thu Hà", "0934555666", None),
    ("Võ Quốc Bảo", None, "bao.vo@example.com"),
]

DEMO_ITEMS = [
    "Áo thun cotton trắng size M x1",
    "Bộ 6 ly thủy tinh x1",
    "Giày thể thao nam size 42 x1",
    "Tai nghe Bluetooth x1; Cáp sạc USB-C x2",
    "Nồi chiên không dầu 5L x1",
    "Váy hoa xanh size S x1",
    "Sách 'Đắc nhân tâm' x1; Bút bi x10",
    "Kem chống nắng 50ml x2",
    "Balo laptop 15 inch x1",
    "Bình giữ nhiệt 500ml x1",
]

DEMO_STATUSES = ["delivered", "delivered", "shipping", "delivered", "processing"]
DEMO_ORDER_NUMBERS = [f"DH{100000 + i}" for i in range(1, 21)]


def real_order_count(session: Session) -> int:
    """Orders that are not demo orders: a shop's own data, which demo orders must not be mixed into."""
    query = select(func.count(Order.id)).where(Order.number.not_in(DEMO_ORDER_NUMBERS))
    return session.execute(query).scalar_one()


def seed_demo_data(session: Session) -> int:
    """Insert the demo customers and orders that are missing; return how many orders were added."""
    customers = []
    for name, phone, email in DEMO_CUSTOMERS:
        query = select(Customer).where(Customer.name == name)
        customer = session.execute(query).scalars().first()
        if customer is None:
            customer = Customer(name=name, phone=phone, email=email)
            session.add(customer)
        customers.append(customer)
    session.flush()

    added = 0
    base = datetime(2026, 11, 1, 9, 0)
    for i, number in enumerate(DEMO_ORDER_NUMBERS, start=1):
        if session.execute(select(Order.id).where(Order.number == number)).first():
            continue
        session.add(
            Order(
                number=number,
                customer=customers[(i - 1) % len(customers)],
                status=DEMO_STATUSES[(i - 1) % len(DEMO_STATUSES)],
                items=DEMO_ITEMS[(i - 1) % len(DEMO_ITEMS)],
                total_vnd=150_000 + 35_000 * i,
                placed_at=base + timedelta(days=i, hours=i % 7),
            )
        )
        added += 1
    return added


def prepare_demo_database(url: str) -> None:
    """Migrate the database at `url` and add the demo data (tests, benchmark)."""
    from bot.store.db import session_factory, session_scope
    from bot.store.migrate import upgrade

    upgrade(url)
    with session_scope(session_factory(url)) as session:
        seed_demo_data(session)
