/*
 * api_auth.c — who am I, browser login/logout, and creating tokens.
 *
 * A browser session is a random 256-bit id in an HttpOnly, SameSite=Strict
 * cookie; the store keeps only its hash and the token it stands for, so
 * revoking the token ends its sessions too.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"

#define SESSION_TTL (12 * 3600)

enum MHD_Result dt_api_me(dt_request *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "role", dt_role_name(r->who.role));
    cJSON_AddBoolToObject(o, "upload_open", r->srv->cfg.upload_open);
    return dt_http_json(r, 200, o);
}

static const char *body_string(dt_request *r, cJSON *root, const char *name)
{
    (void)r;
    cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

enum MHD_Result dt_api_login(dt_request *r)
{
    cJSON *root = r->body ? cJSON_Parse(r->body) : NULL;
    const char *token = body_string(r, root, "token");
    if (!token) {
        cJSON_Delete(root);
        return dt_http_error(r, 400, "bad_request", "send {\"token\":\"…\"}");
    }
    dt_store *st = dt_http_store(r);
    int64_t id = 0;
    dt_role role = st ? dt_store_token_lookup(st, token, &id) : DT_ROLE_ANONYMOUS;
    cJSON_Delete(root);
    if (role == DT_ROLE_ANONYMOUS)
        return dt_http_error(r, 401, "unauthorized", "the token is not valid");
    char session[65];
    dt_error err = { 0 };
    if (dt_store_session_create(st, id, SESSION_TTL, session, &err) != DT_OK)
        return dt_http_error(r, 500, "internal", "%s", err.message);
    char cookie[200];
    snprintf(cookie, sizeof cookie, "dt_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", session,
             SESSION_TTL, r->srv->cfg.cookie_secure ? "; Secure" : "");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "role", dt_role_name(role));
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text)
        return MHD_NO;
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Set-Cookie", cookie);
    return dt_http_reply(r, 200, resp);
}

enum MHD_Result dt_api_logout(dt_request *r)
{
    const char *session = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "dt_session");
    dt_store *st = session ? dt_http_store(r) : NULL;
    if (st)
        dt_store_session_delete(st, session);
    char *text = strdup("{\"role\":\"anonymous\"}");
    if (!text)
        return MHD_NO;
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Set-Cookie", "dt_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    return dt_http_reply(r, 200, resp);
}

enum MHD_Result dt_api_tokens(dt_request *r)
{
    if (r->who.role == DT_ROLE_ANONYMOUS)
        return dt_http_error(r, 401, "unauthorized", "creating tokens needs a staff token");
    if (r->who.role != DT_ROLE_STAFF)
        return dt_http_error(r, 403, "forbidden", "only staff may create tokens");
    cJSON *root = r->body ? cJSON_Parse(r->body) : NULL;
    const char *role_s = body_string(r, root, "role");
    const char *name = body_string(r, root, "name");
    dt_role role = !role_s || strcmp(role_s, "uploader") == 0 ? DT_ROLE_UPLOADER
                 : strcmp(role_s, "staff") == 0 ? DT_ROLE_STAFF : DT_ROLE_ANONYMOUS;
    if (role == DT_ROLE_ANONYMOUS || (name && strlen(name) > 200)) {
        cJSON_Delete(root);
        return dt_http_error(r, 400, "bad_request", "send {\"role\":\"uploader|staff\",\"name\":\"…\"}");
    }
    char token[80];
    int64_t id = 0;
    dt_error err = { 0 };
    dt_status s = dt_store_token_create(dt_http_store(r), role, name, NULL, token, sizeof token, &id, &err);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "role", dt_role_name(role));
    cJSON_AddStringToObject(o, "name", name ? name : "");
    cJSON_AddStringToObject(o, "token", token);
    cJSON_Delete(root);
    if (s != DT_OK) {
        cJSON_Delete(o);
        return dt_http_error(r, 500, "internal", "%s", err.message);
    }
    return dt_http_json(r, 201, o);
}
