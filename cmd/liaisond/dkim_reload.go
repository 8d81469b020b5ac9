package main

import "liaisond/notify"

// reloadDKIM re-reads [outbound] dkim_selector and dkim_key_file from the
// configuration file and the key they name (SIGHUP), so an operator
// rotates the key without a restart: publish the new selector's TXT
// record, point the config at the new selector and key file (or replace
// the key in the same file), send SIGHUP. Nothing else in the file is
// re-read. A configuration or key that does not load keeps the signer in
// use: a typo must not send mail unsigned, or signed with a broken key.
func (a *app) reloadDKIM() {
	if a.cfg.path == "" {
		return // the built-in configuration signs nothing
	}
	cfg, err := loadConfig(a.cfg.path)
	if err != nil {
		a.log.Error("DKIM key reload failed: the configuration has problems; keeping the old key", "config", a.cfg.path, "err", err)
		return
	}
	o := cfg.Outbound
	if o.DKIMKeyFile == "" {
		if a.dkim.Current() != nil {
			a.dkim.Store(nil)
			a.log.Warn("DKIM signing turned off: outbound.dkim_key_file is no longer set")
		}
		return
	}
	key, err := notify.LoadDKIMKey(cfg.resolve(o.DKIMKeyFile))
	if err != nil {
		a.log.Error("DKIM key reload failed; keeping the old key", "err", err)
		return
	}
	a.dkim.Store(&notify.DKIMSigner{Domain: a.cfg.Domain, Selector: o.DKIMSelector, Key: key})
	a.log.Info("DKIM key reloaded", "selector", o.DKIMSelector, "key_file", cfg.resolve(o.DKIMKeyFile))
}
