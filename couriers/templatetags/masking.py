"""`{{ text|mask_numbers }}`: free text published on a public page (a report's description, a
story) with any phone or ID number in it masked, since people type them in."""

from django import template

from couriers.privacy import masking

register = template.Library()
register.filter("mask_numbers", masking.mask_numbers)
