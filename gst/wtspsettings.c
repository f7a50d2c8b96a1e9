/* WebTrit Signaling Protocol (WTSP): the signaling settings
 *
 * The properties of a WtspSession (location, token, timeouts, ...) and
 * its read-only state, defined once here. The session installs them on
 * itself; an element that wraps a session (signalingsrc, webrtccall)
 * installs the same ones on its own class with wtsp_settings_install()
 * and forwards them with wtsp_settings_set_property() and
 * wtsp_settings_get_property(): same names, blurbs, defaults and flags
 * everywhere, and no property ids to count.
 *
 * Each pspec installed here carries, as qdata, the name of the session
 * property it stands for: forwarding goes by that, not by id ranges.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "wtspsettings.h"

typedef enum
{
  KIND_STRING,
  KIND_BOOLEAN,
  KIND_UINT,
  KIND_INT,
  KIND_STATE,                   /* WtspSessionState */
} Kind;

typedef struct
{
  const gchar *name;
  const gchar *nick;
  const gchar *blurb;
  Kind kind;
  gint64 min, max, def;         /* numbers and booleans */
  GParamFlags flags;
} Setting;

#define RW (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS)
#define WO (G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS)
#define RO (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)

/* The settings, in the order they are installed (and compared, in
 * wtsp_session_settings_equal). Every string setting defaults to NULL. */
static const Setting settings[] = {
  {"location", "Location",
        "URL of the signaling server: ws[s]://HOST[:PORT][/tenant/ID]"
        "/signaling/v1 (token and force are added to its query)",
      KIND_STRING, 0, 0, 0, RW},
  {"token", "Token",
        "Session token (a secret: write-only, never logged)",
      KIND_STRING, 0, 0, 0, WO},
  {"token-file", "Token file",
        "File holding the session token, read at start (keeps the secret "
        "off command lines, which GStreamer logs at debug level)",
      KIND_STRING, 0, 0, 0, RW},
  {"force", "Force",
        "Take the session over from another connection that holds it "
        "(that one is closed with 4441)",
      KIND_BOOLEAN, 0, 0, WTSP_DEFAULT_FORCE, RW},
  {"reconnect-force", "Reconnect with force",
        "Re-attach with force=true after a drop, since the server may "
        "still hold our dead socket",
      KIND_BOOLEAN, 0, 0, WTSP_DEFAULT_RECONNECT_FORCE, RW},
  {"tls-validation", "TLS validation",
        "Validate the server's TLS certificate (disable only for tests)",
      KIND_BOOLEAN, 0, 0, WTSP_DEFAULT_TLS_VALIDATION, RW},
  {"ca-file", "CA file",
        "PEM file of certificate authorities to trust instead of the "
        "system's",
      KIND_STRING, 0, 0, 0, RW},
  {"transaction-timeout", "Transaction timeout",
        "Milliseconds to wait for the answer to a request or keepalive",
      KIND_UINT, 1, G_MAXUINT, WTSP_DEFAULT_TRANSACTION_TIMEOUT, RW},
  {"handshake-timeout", "Handshake timeout",
        "Milliseconds from connecting to the server's state handshake",
      KIND_UINT, 1, G_MAXUINT, WTSP_DEFAULT_HANDSHAKE_TIMEOUT, RW},
  {"reconnect-delay-min", "Minimum reconnect delay",
        "Milliseconds before the first reconnect attempt (doubles with "
        "each failed attempt, with jitter)",
      KIND_UINT, 1, G_MAXUINT, WTSP_DEFAULT_RECONNECT_DELAY_MIN, RW},
  {"reconnect-delay-max", "Maximum reconnect delay",
        "Largest delay between reconnect attempts, in milliseconds",
      KIND_UINT, 1, G_MAXUINT, WTSP_DEFAULT_RECONNECT_DELAY_MAX, RW},
  {"max-reconnect-attempts", "Max reconnect attempts",
        "Reconnect attempts after a drop before giving up with an error "
        "(-1 = keep trying)",
      KIND_INT, -1, G_MAXINT, WTSP_DEFAULT_MAX_RECONNECT_ATTEMPTS, RW},
  {"max-message-size", "Max message size",
        "Largest message accepted from the server, in bytes (a larger "
        "one drops the link, which is then reconnected)",
      KIND_UINT, 1024, G_MAXINT, WTSP_DEFAULT_MAX_MESSAGE_SIZE, RW},
};

/* What the session reports; installed with with_state */
static const Setting state[] = {
  {"state", "State", "Connection state", KIND_STATE, 0, 0,
      WTSP_SESSION_STATE_STOPPED, RO},
  {"registration", "Registration",
        "SIP registration status the server reported: registering, "
        "registered, registration_failed, unregistering, unregistered",
      KIND_STRING, 0, 0, 0, RO},
  {"keepalive-interval", "Keepalive interval",
        "Milliseconds between keepalives, as the server asked "
        "(0 before the handshake)",
      KIND_UINT, 0, G_MAXUINT, 0, RO},
};

/* wtspsession.h promises the old API this many */
G_STATIC_ASSERT (G_N_ELEMENTS (settings) == WTSP_SESSION_N_SETTINGS);
G_STATIC_ASSERT (G_N_ELEMENTS (state) == WTSP_SESSION_N_STATE);

G_DEFINE_QUARK (wtsp-settings-forward, forward);

static GParamSpec *
make_pspec (const Setting * s)
{
  switch (s->kind) {
    case KIND_STRING:
      return g_param_spec_string (s->name, s->nick, s->blurb, NULL, s->flags);
    case KIND_BOOLEAN:
      return g_param_spec_boolean (s->name, s->nick, s->blurb, s->def != 0,
          s->flags);
    case KIND_UINT:
      return g_param_spec_uint (s->name, s->nick, s->blurb, s->min, s->max,
          s->def, s->flags);
    case KIND_INT:
      return g_param_spec_int (s->name, s->nick, s->blurb, s->min, s->max,
          s->def, s->flags);
    case KIND_STATE:
      return g_param_spec_enum (s->name, s->nick, s->blurb,
          WTSP_TYPE_SESSION_STATE, s->def, s->flags);
  }
  g_assert_not_reached ();
  return NULL;
}

static guint
install (GObjectClass * klass, guint id, const Setting * table, guint n)
{
  guint i;

  for (i = 0; i < n; i++) {
    GParamSpec *pspec = make_pspec (&table[i]);

    g_param_spec_set_qdata (pspec, forward_quark (), (gpointer) table[i].name);
    g_object_class_install_property (klass, id++, pspec);
  }
  return id;
}

/**
 * wtsp_settings_install:
 * @klass: the class of an element that wraps a #WtspSession
 * @first_id: the property id the first setting gets in @klass
 * @with_state: also install the read-only state, registration and
 *     keepalive-interval
 *
 * Installs the session's settings (location, token, token-file, force,
 * reconnect-force, tls-validation, ca-file, transaction-timeout,
 * handshake-timeout, reconnect-delay-min, reconnect-delay-max,
 * max-reconnect-attempts, max-message-size) on @klass, with consecutive
 * ids from @first_id. Forward them with wtsp_settings_set_property() and
 * wtsp_settings_get_property(), which know them by their pspec, not by
 * their id.
 *
 * Returns: the next free property id
 */
guint
wtsp_settings_install (GObjectClass * klass, guint first_id,
    gboolean with_state)
{
  guint id;

  g_return_val_if_fail (G_IS_OBJECT_CLASS (klass), first_id);
  g_return_val_if_fail (first_id > 0, first_id);

  id = install (klass, first_id, settings, G_N_ELEMENTS (settings));
  if (with_state)
    id = install (klass, id, state, G_N_ELEMENTS (state));
  return id;
}

/**
 * wtsp_settings_get_forwarded:
 * @pspec: a property of any class
 *
 * Returns: (nullable): the name of the #WtspSession property @pspec stands
 *     for, if wtsp_settings_install() made it, else %NULL
 */
const gchar *
wtsp_settings_get_forwarded (GParamSpec * pspec)
{
  g_return_val_if_fail (G_IS_PARAM_SPEC (pspec), NULL);

  return g_param_spec_get_qdata (pspec, forward_quark ());
}

/**
 * wtsp_settings_set_property:
 * @session: the session the element's settings live in
 * @pspec: from the element's set_property
 * @value: from the element's set_property
 *
 * Call first thing in an element's set_property.
 *
 * Returns: %TRUE if @pspec is one of the session's settings (it is now set
 *     on @session), %FALSE if it is the element's own
 */
gboolean
wtsp_settings_set_property (WtspSession * session, GParamSpec * pspec,
    const GValue * value)
{
  const gchar *name = wtsp_settings_get_forwarded (pspec);

  if (name == NULL)
    return FALSE;
  g_return_val_if_fail (WTSP_IS_SESSION (session), TRUE);
  g_object_set_property (G_OBJECT (session), name, value);
  return TRUE;
}

/**
 * wtsp_settings_get_property:
 * @session: the session the element's settings live in
 * @pspec: from the element's get_property
 * @value: from the element's get_property
 *
 * Returns: %TRUE if @pspec is one of the session's settings or state
 *     (@value now holds it), %FALSE if it is the element's own
 */
gboolean
wtsp_settings_get_property (WtspSession * session, GParamSpec * pspec,
    GValue * value)
{
  const gchar *name = wtsp_settings_get_forwarded (pspec);

  if (name == NULL)
    return FALSE;
  g_return_val_if_fail (WTSP_IS_SESSION (session), TRUE);
  g_object_get_property (G_OBJECT (session), name, value);
  return TRUE;
}

/**
 * wtsp_settings_list:
 *
 * Returns: (transfer none) (array zero-terminated=1): the names of the
 *     settings (not the state), in the order they are installed
 */
const gchar *const *
wtsp_settings_list (void)
{
  static const gchar *names[G_N_ELEMENTS (settings) + 1];
  static gsize done;

  if (g_once_init_enter (&done)) {
    guint i;

    for (i = 0; i < G_N_ELEMENTS (settings); i++)
      names[i] = settings[i].name;
    names[i] = NULL;
    g_once_init_leave (&done, 1);
  }
  return names;
}
