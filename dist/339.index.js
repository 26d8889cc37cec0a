export const id = 339;
export const ids = [339];
export const modules = {

/***/ 6339:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   upsertComment: () => (/* binding */ upsertComment)
/* harmony export */ });
/* harmony import */ var _actions_github__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(542);
/* harmony import */ var undici__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(6752);
/**
 * The pull request's comment through @actions/github's octokit, the one module that imports it:
 * comment.ts loads it with `import()` only when a comment is to be written, so a publication that
 * writes none never loads octokit (start-up memory in BENCHMARKS.md).
 */


/**
 * One comment per publication: the oldest comment holding the marker is updated in place, else
 * one is created; any other holding it (two runs that both created one) is deleted.
 */
async function upsertComment(request) {
    const octokit = (0,_actions_github__WEBPACK_IMPORTED_MODULE_0__/* .getOctokit */ .Q)(request.token, {
        baseUrl: request.apiUrl.replace(/\/+$/, ''),
        userAgent: request.userAgent,
        ...(request.dispatcher !== undefined
            ? { request: { fetch: fetchThrough(request.dispatcher) } }
            : {}),
    });
    const where = { owner: request.owner, repo: request.repo };
    const comments = await octokit.paginate(octokit.rest.issues.listComments, {
        ...where,
        issue_number: request.number,
        per_page: 100,
    });
    const ours = comments
        .filter((c) => c.body?.includes(request.marker) === true)
        .sort((a, b) => a.id - b.id);
    const [kept, ...extra] = ours;
    const written = kept === undefined
        ? await octokit.rest.issues.createComment({
            ...where,
            issue_number: request.number,
            body: request.body,
        })
        : await octokit.rest.issues.updateComment({
            ...where,
            comment_id: kept.id,
            body: request.body,
        });
    for (const comment of extra)
        await octokit.rest.issues.deleteComment({ ...where, comment_id: comment.id });
    return {
        action: kept === undefined ? 'created' : 'updated',
        url: written.data.html_url,
        removed: extra.length,
    };
}
/** A fetch through `dispatcher` (undici's own fetch, which takes one). */
function fetchThrough(dispatcher) {
    return ((url, init) => (0,undici__WEBPACK_IMPORTED_MODULE_1__.fetch)(url, { ...init, dispatcher }));
}


/***/ })

};
