"""积分兑换: the rewards catalogue, redeeming points for vouchers, the partner's counter, cancelling
and expiry, partners' monthly statements, their admin, pages and demo."""
