# %postun of the herald RPM, as %systemd_postun_with_restart: on upgrade
# restart a running service with the new binary; a stopped one stays
# stopped. /var/lib/herald and the user are kept on erase.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || :
fi
if [ "$1" -ge 1 ]; then
	systemctl try-restart herald.service >/dev/null 2>&1 || :
fi
exit 0
