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


@register.simple_tag(takes_context=True)
def platform_menu(context) -> list[dict]:
    """The entries outside any school unit (transfers, test definitions…) the user may open."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    if "_platform_menu" not in request.__dict__:
        request.__dict__["_platform_menu"] = navigation.platform_menu_for(user)
    return request.__dict__["_platform_menu"]


@register.simple_tag(takes_context=True)
def has_school_units(context) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    if "_has_school_units" not in request.__dict__:
        request.__dict__["_has_school_units"] = selectors.school_units_visible_to(user).exists()
    return request.__dict__["_has_school_units"]
