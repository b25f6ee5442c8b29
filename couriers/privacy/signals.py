"""Signals the registry sends to the apps above it, which it may not import.

`courier_erased(sender=Courier, courier=...)`: sent inside the erasure's transaction, after
the courier became an anonymous shell. Apps connect receivers in their AppConfig.ready to
withdraw what the shell must not keep getting (activities: its waiting-list places).
"""

from django.dispatch import Signal

courier_erased = Signal()
