import{j as t}from"./vendor-DlMZp9-0.js";function r({status:s}){return t.jsx("span",{className:`status status-${s}`,children:s})}export{r as S};
