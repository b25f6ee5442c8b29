"""`{{ value|cn_number }}`: big counts in 万 / 亿 on staff pages (couriers.figures)."""

from django import template

from couriers.figures import chinese_number

register = template.Library()


@register.filter
def cn_number(value) -> str:
    return chinese_number(value)
