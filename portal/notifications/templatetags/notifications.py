from django import template

from portal.notifications.selectors import notification_unread_count

register = template.Library()


@register.simple_tag
def unread_notifications(user) -> int:
    return notification_unread_count(user=user)
