"""zh-hans input formats with ISO first.

Django's zh_Hans puts 2026/09/10 first, and widgets render their value in the first input
format: a browser's `<input type="date">` rejects that value, shows the field empty and submits
nothing, so dates vanished from admin forms on every save. ISO first makes every date widget
(plain or the admin's calendar) render 2026-09-10; the other formats are still accepted as
input. Only these two settings are overridden; everything else comes from Django's zh_Hans.
"""

DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # '2016-09-05' (first: what widgets render)
    "%Y/%m/%d",  # '2016/09/05'
    "%Y年%m月%d日",  # '2016年9月5日'
]

DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",  # '2016-09-05 20:45:29' (first: what widgets render)
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S.%f",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
]
