# %preun of the herald RPM, as %systemd_preun: on erase (not upgrade)
# disable and stop the service, which withdraws every route and closes the
# BGP sessions with a Cease.
if [ "$1" -eq 0 ]; then
	systemctl --no-reload disable --now herald.service >/dev/null 2>&1 || :
fi
exit 0
