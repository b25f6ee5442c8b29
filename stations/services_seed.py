"""The services stations offer, seeded by a data migration; staff may add more."""

SERVICES = [
    ("饮水", "💧"),
    ("充电", "🔌"),
    ("阅读学习", "📚"),
    ("避暑取暖", "🌡"),
    ("歇脚休息", "🪑"),
    ("议事团建", "🤝"),
    ("卫生间", "🚻"),
    ("微波炉", "🍱"),
    ("医药箱", "🩹"),
    ("雨具", "☂"),
    ("无线网络", "📶"),
]


def seed_services(service_model) -> None:
    for order, (name, icon) in enumerate(SERVICES, start=1):
        service_model.objects.get_or_create(name=name, defaults={"icon": icon, "sort_order": order})
