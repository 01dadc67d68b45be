# %post of the herald RPM, as %systemd_post: on first install apply the
# preset policy (which leaves herald disabled unless a preset enables it).
# The service is never started here: the shipped
# /etc/herald/herald.toml announces nothing and has to be edited first.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || :
fi
if [ "$1" -eq 1 ]; then
	systemctl --no-reload preset herald.service >/dev/null 2>&1 || :
fi
exit 0
