from django import template

from schools import navigation, selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def unit_menu(context, unit) -> list[dict]:
    """The menu entries other apps registered that the user may use at `unit`."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if unit is None or user is None or not user.is_authenticated:
        return []
    # One lookup per request and unit, however often the menu is drawn.
    cache = request.__dict__.setdefault("_unit_menu_capabilities", {})
    if unit.pk not in cache:
        cache[unit.pk] = selectors.capabilities_at(user=user, school_unit=unit)
    return navigation.menu_for(unit, cache[unit.pk])
