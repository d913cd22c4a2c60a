import{j as t}from"./vendor-dKd0x1-A.js";function r({status:s}){return t.jsx("span",{className:`status status-${s}`,children:s})}export{r as S};
